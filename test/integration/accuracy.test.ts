// Every built-in model on the hand-labelled evaluation set, whole frames at the default thresholds: the
// precision and recall `vigil models list` shows are what the set measures, and the int8 default stays
// within a point of the fp32 model it is quantized from (the gate it became the default by).
import { beforeAll, describe, expect, it } from 'vitest';
import { DETECTOR_DEFAULTS } from '../../src/config/schema.js';
import { Detector } from '../../src/detect/detector.js';
import { BUILTIN_MODELS, type Accuracy } from '../../src/models/catalog.js';
import { runCli } from '../harness/daemon-process.js';
import { add, loadEvalImages, tally, type EvalImage, type Tally } from '../harness/detection-eval.js';

let images: EvalImage[];
const measured: Record<string, Accuracy> = {};

beforeAll(async () => {
  images = await loadEvalImages();
  const threshold = (label: string) => DETECTOR_DEFAULTS.class_thresholds[label] ?? DETECTOR_DEFAULTS.score_threshold;
  for (const model of BUILTIN_MODELS) {
    const detector = await Detector.create({ ...DETECTOR_DEFAULTS, model: model.id, workers: 1, threads: 2 });
    try {
      const totals: Record<'person' | 'vehicle', Tally> = { person: { tp: 0, fp: 0, fn: 0 }, vehicle: { tp: 0, fp: 0, fn: 0 } };
      for (const img of images) {
        const { detections } = await detector.detect(img.image);
        for (const c of ['person', 'vehicle'] as const) totals[c] = add(totals[c], tally(detections, img.truth, c, threshold));
      }
      const pr = (t: Tally): [number, number] => [(100 * t.tp) / (t.tp + t.fp), (100 * t.tp) / (t.tp + t.fn)];
      measured[model.id] = { person: pr(totals.person), vehicle: pr(totals.vehicle) };
    } finally {
      await detector.close();
    }
  }
  console.log(`accuracy (precision/recall %): ${JSON.stringify(measured, (_, v: unknown) => (typeof v === 'number' ? Math.round(v * 10) / 10 : v))}`);
}, 240_000);

describe('detector accuracy on the evaluation set', () => {
  it('uses at least 300 labelled people and vehicles', () => {
    const scored = images.reduce((n, img) => n + img.truth.filter((t) => !t.hard).length, 0);
    expect(scored).toBeGreaterThanOrEqual(300);
  });

  for (const model of BUILTIN_MODELS) {
    it(`${model.id}: measures the precision and recall its catalog entry states (±1 point)`, () => {
      const m = measured[model.id]!;
      for (const c of ['person', 'vehicle'] as const) {
        for (const k of [0, 1] as const) expect(Math.abs(m[c][k] - model.accuracy[c][k]), `${c} ${k ? 'recall' : 'precision'}: measured ${m[c][k]}`).toBeLessThanOrEqual(1);
      }
    });
  }

  it('keeps the int8 default within a point of its fp32 model, and vigil models list shows the figures', async () => {
    for (const model of BUILTIN_MODELS.filter((m) => 'quantized' in m)) {
      const from = 'quantized' in model ? model.quantized.from : '';
      for (const c of ['person', 'vehicle'] as const) {
        for (const k of [0, 1] as const) expect(measured[model.id]![c][k], `${model.id} ${c}`).toBeGreaterThanOrEqual(measured[from]![c][k] - 1);
      }
    }
    expect(DETECTOR_DEFAULTS.model).toBe('nanodet-640x384-int8');
    const list = await runCli(['models', 'list']);
    expect(list.code).toBe(0);
    const int8 = BUILTIN_MODELS.find((m) => m.id === DETECTOR_DEFAULTS.model)!;
    expect(list.stdout).toContain(`person P${int8.accuracy.person[0]}/R${int8.accuracy.person[1]}`);
  });
});
