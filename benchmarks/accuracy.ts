// Detector accuracy on the hand-labelled evaluation set (benchmarks/accuracy/detection-eval.json): precision
// and recall per class at IoU ≥ 0.5 and false positives per frame, for each built-in model, on frames as
// the daemon sees them (yuv420p at a 640-wide detect size) and on the photos; then the score threshold per
// class that the defaults are chosen from.
import { DETECTOR_DEFAULTS, type DetectorConfig } from '../src/config/schema.js';
import { Detector, type LabeledDetection } from '../src/detect/detector.js';
import { pipelineRegionOptions, planRegions } from '../src/detect/regions.js';
import type { Box } from '../src/image/geometry.js';
import { readManifest } from '../src/models/manifest.js';
import { add, classOf, loadEvalImages, SCORED, tally, type EvalImage } from '../test/harness/detection-eval.js';

const pct = (n: number, d: number) => (d === 0 ? 'n/a' : `${((100 * n) / d).toFixed(1)}`);

interface Run {
  model: string;
  how: string;
  /** Detections per image at the lowest threshold swept. */
  dets: LabeledDetection[][];
  /** The truth scored for this run (all of it, or what lies in the regions looked at). */
  truth: Array<EvalImage['truth']>;
}

const SWEEP = [0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55];

export async function accuracyBenchmark(): Promise<string> {
  const images = await loadEvalImages();
  const models = Object.keys(readManifest().models);
  const runs: Run[] = [];
  const everything = images.map((img) => img.truth);
  const scoredInMoved = new Set<number>();
  for (const model of models) {
    // As if a few of the objects moved: regions planned (in the model input's shape) around every third one
    // (up to three per image), and only the objects inside those regions scored. This is where packing
    // regions into one inference and running them one by one differ.
    const input = readManifest().models[model]!.input.shape;
    const moved = images.map((img) => regionsAround(img, img.truth.filter((t, i) => !t.hard && i % 3 === 0).slice(0, 3), { width: input[3]!, height: input[2]! }));
    const inMoved = images.map((img, k) => img.truth.filter((t) => moved[k]!.some((r) => inside(t.box, r))));
    scoredInMoved.add(inMoved.reduce((n, t) => n + t.filter((x) => !x.hard).length, 0));
    for (const pack of [true, false]) {
      const config: DetectorConfig = { ...DETECTOR_DEFAULTS, model, score_threshold: SWEEP[0]!, class_thresholds: {}, pack_regions: pack, workers: 1, threads: 2 };
      const detector = await Detector.create(config);
      try {
        if (pack) runs.push({ model, how: 'whole frame', dets: await detectAll(detector, images, () => undefined), truth: everything });
        runs.push({ model, how: pack ? 'regions, packed' : 'regions, one by one', dets: await detectAll(detector, images, (_, k) => moved[k]!), truth: inMoved });
      } finally {
        await detector.close();
      }
    }
  }
  const total = (run: Run, c: string, th: number | ((label: string) => number)) =>
    images.reduce((sum, _, i) => add(sum, tally(run.dets[i]!, run.truth[i]!, c, th)), { tp: 0, fp: 0, fn: 0 });
  const defaults = (label: string) => DETECTOR_DEFAULTS.class_thresholds[label] ?? DETECTOR_DEFAULTS.score_threshold;
  const summary = runs.map((run) => {
    const cells = SCORED.map((c) => {
      const t = total(run, c, defaults);
      return t.tp + t.fn === 0 && t.fp === 0 ? '—' : `${pct(t.tp, t.tp + t.fp)} / ${pct(t.tp, t.tp + t.fn)}`;
    });
    const fp = total(run, 'person', defaults).fp + total(run, 'vehicle', defaults).fp;
    return `| ${run.model} | ${run.how} | ${cells.join(' | ')} | ${(fp / images.length).toFixed(2)} |`;
  });
  const counts = SCORED.map((c) => images.reduce((n, img) => n + img.truth.filter((t) => !t.hard && classOf(t.label, c)).length, 0));
  const sweep: string[] = [];
  for (const run of runs.filter((r) => r.how === 'whole frame')) {
    for (const c of ['person', 'vehicle']) {
      const cells = SWEEP.map((th) => {
        const t = total(run, c, th);
        return `${pct(t.tp, t.tp + t.fp)} / ${pct(t.tp, t.tp + t.fn)}`;
      });
      sweep.push(`| ${run.model} | ${c} | ${cells.join(' | ')} |`);
    }
  }
  const thresholds = Object.entries(DETECTOR_DEFAULTS.class_thresholds).map(([l, t]) => `${l} ${t}`).join(', ');
  return [
    `Accuracy: ${images.length} hand-labelled images (${counts[0]} people, ${counts[1]} vehicles not marked hard; benchmarks/accuracy/README.md), IoU ≥ 0.5, ` +
      `default thresholds (${DETECTOR_DEFAULTS.score_threshold}${thresholds ? `; ${thresholds}` : ''}). "regions": as if every third object moved, ${[...scoredInMoved].join(' or ')} objects in the planned regions scored (per model; regions take its input's shape). ` +
      'Cells: precision / recall (%); "vehicle" is any vehicle label on any vehicle box',
    '',
    `| model | how | ${SCORED.join(' | ')} | false positives per image |`,
    `|---|---|${SCORED.map(() => '---:').join('|')}|---:|`,
    ...summary,
    '',
    'Score threshold sweep, whole frames (precision / recall %)',
    '',
    `| model | class | ${SWEEP.join(' | ')} |`,
    `|---|---|${SWEEP.map(() => '---:').join('|')}|`,
    ...sweep,
  ].join('\n');
}

function inside(b: Box, r: { x: number; y: number; width: number; height: number }): boolean {
  const cx = (b[0] + b[2]) / 2;
  const cy = (b[1] + b[3]) / 2;
  return cx >= r.x && cx <= r.x + r.width && cy >= r.y && cy <= r.y + r.height;
}

async function detectAll(detector: Detector, images: EvalImage[], regions: (img: EvalImage, k: number) => ReturnType<typeof planRegions> | undefined): Promise<LabeledDetection[][]> {
  const out: LabeledDetection[][] = [];
  for (const [k, img] of images.entries()) {
    const r = regions(img, k);
    // Nothing moved: the pipeline would not look at all.
    if (r && r.length === 0) {
      out.push([]);
      continue;
    }
    out.push((await detector.detect(img.image, r)).detections);
  }
  return out;
}

/** The regions the pipeline would plan if these labelled objects were what moved. */
function regionsAround(img: EvalImage, moving: EvalImage['truth'], detectorInput: { width: number; height: number }): ReturnType<typeof planRegions> {
  const { width, height } = img.image;
  const boxes = moving.map((t) => ({ x: t.box[0], y: t.box[1], width: t.box[2] - t.box[0], height: t.box[3] - t.box[1] }));
  return planRegions(boxes, width, height, pipelineRegionOptions(width, height, detectorInput));
}
