// Detector accuracy on the hand-labelled evaluation set (benchmarks/accuracy/detection-eval.json): precision
// and recall per class at IoU ≥ 0.5 and false positives per frame, for each built-in model, on frames as
// the daemon sees them (yuv420p at a 640-wide detect size) and on the photos; then the score threshold per
// class that the defaults are chosen from.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DETECTOR_DEFAULTS, type DetectorConfig } from '../src/config/schema.js';
import { Detector, type LabeledDetection } from '../src/detect/detector.js';
import { readImageFile } from '../src/detect/image-file.js';
import { pipelineRegionOptions, planRegions } from '../src/detect/regions.js';
import { iou, type Box } from '../src/image/geometry.js';
import type { Image } from '../src/image/image.js';
import { bundledFfmpegPath } from '../src/ingest/ffmpeg.js';
import { readManifest } from '../src/models/manifest.js';
import { PROJECT_ROOT } from '../src/version.js';
import { labelGroup } from '../src/vocabulary/labels.js';
import { debianMedia, sharedFixture } from '../test/harness/media-paths.js';

interface LabelledBox {
  label: string;
  box: [number, number, number, number];
  hard?: boolean;
}

interface EvalSet {
  labels: string[];
  sources: Record<string, { file: string; root: 'fixtures' | 'debian'; width: number; height: number }>;
  frames: Array<{ source: string; frame?: number; boxes: LabelledBox[] }>;
}

/** One evaluation image as the detector gets it, with its truth in that image's pixels. */
export interface EvalImage {
  name: string;
  image: Image;
  truth: Array<{ label: string; box: Box; hard: boolean }>;
}

export const EVAL_SET_FILE = path.join(PROJECT_ROOT, 'benchmarks', 'accuracy', 'detection-eval.json');
/** The daemon's default detect width; the height keeps the camera's aspect. */
const DETECT_WIDTH = 640;

/** Decodes every labelled frame once: video frames to yuv420p at the detect size, photos as RGB. */
export async function loadEvalImages(file = EVAL_SET_FILE): Promise<EvalImage[]> {
  const set = JSON.parse(readFileSync(file, 'utf8')) as EvalSet;
  const out: EvalImage[] = [];
  const bySource = new Map<string, EvalSet['frames']>();
  for (const f of set.frames) bySource.set(f.source, [...(bySource.get(f.source) ?? []), f]);
  for (const [name, frames] of bySource) {
    const source = set.sources[name];
    if (!source) throw new Error(`${file}: frames name source "${name}", which is not in "sources"`);
    const media = source.root === 'fixtures' ? sharedFixture(source.file) : debianMedia(source.file);
    if (frames.every((f) => f.frame === undefined)) {
      const image = await readImageFile(media);
      for (const f of frames) out.push({ name: `${name}`, image, truth: truthOf(f.boxes, 1, 1) });
      continue;
    }
    const height = 2 * Math.round((DETECT_WIDTH * source.height) / source.width / 2);
    const sx = DETECT_WIDTH / source.width;
    const sy = height / source.height;
    const indices = frames.map((f) => f.frame!).sort((a, b) => a - b);
    // One decode per video: the frames come out in index order, exactly the pixels the labeller saw, scaled.
    const raw = execFileSync(bundledFfmpegPath(), ['-v', 'error', '-i', media, '-vf', `select='${indices.map((i) => `eq(n\\,${i})`).join('+')}',scale=${DETECT_WIDTH}:${height}`,
      '-vsync', '0', '-pix_fmt', 'yuv420p', '-f', 'rawvideo', 'pipe:1'], { maxBuffer: 1 << 30 });
    const size = (DETECT_WIDTH * height * 3) / 2;
    if (raw.length !== size * indices.length) throw new Error(`${media}: expected ${indices.length} frames from ffmpeg, got ${raw.length / size}`);
    for (const f of frames) {
      const k = indices.indexOf(f.frame!);
      const data = new Uint8Array(raw.buffer, raw.byteOffset + k * size, size);
      out.push({ name: `${name}#${f.frame}`, image: { kind: 'yuv420p', width: DETECT_WIDTH, height, data }, truth: truthOf(f.boxes, sx, sy) });
    }
  }
  return out;
}

function truthOf(boxes: LabelledBox[], sx: number, sy: number): EvalImage['truth'] {
  return boxes.map((b) => ({ label: b.label, hard: b.hard === true, box: [b.box[0] * sx, b.box[1] * sy, (b.box[0] + b.box[2]) * sx, (b.box[1] + b.box[3]) * sy] }));
}

/** Classes scored: people, and vehicles as one group (the labels within it are scored apart as well). */
export const SCORED = ['person', 'vehicle', 'car', 'truck', 'bus', 'motorcycle', 'bicycle'] as const;
const classOf = (label: string, scored: string) => (scored === 'vehicle' ? labelGroup(label) === 'vehicle' : label === scored);

export interface Tally {
  tp: number;
  fp: number;
  fn: number;
}

/**
 * Greedy matching by score at IoU ≥ 0.5 within one class. Detections on a hard box (any label) are
 * neither right nor wrong, and hard boxes that nobody found are not misses.
 */
export function tally(dets: LabeledDetection[], truth: EvalImage['truth'], scored: string, threshold: number | ((label: string) => number)): Tally {
  const min = typeof threshold === 'number' ? () => threshold : threshold;
  const mine = dets.filter((d) => d.score >= min(d.label) && classOf(d.label, scored)).sort((a, b) => b.score - a.score);
  const gts = truth.filter((t) => classOf(t.label, scored));
  const used = new Set<number>();
  const t: Tally = { tp: 0, fp: 0, fn: 0 };
  for (const d of mine) {
    let best = -1;
    let bestIou = 0.5;
    gts.forEach((g, i) => {
      if (used.has(i)) return;
      const o = iou(d.box, g.box);
      if (o >= bestIou) {
        best = i;
        bestIou = o;
      }
    });
    if (best >= 0) {
      used.add(best);
      if (!gts[best]!.hard) t.tp++;
    } else if (!truth.some((g) => g.hard && iou(d.box, g.box) >= 0.5)) {
      t.fp++;
    }
  }
  t.fn = gts.filter((g, i) => !g.hard && !used.has(i)).length;
  return t;
}

export function add(a: Tally, b: Tally): Tally {
  return { tp: a.tp + b.tp, fp: a.fp + b.fp, fn: a.fn + b.fn };
}

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
  // As if a few of the objects moved: regions planned around every third one (up to three per image), and
  // only the objects inside those regions scored. This is where packing regions into one inference and
  // running them one by one differ.
  const moved = images.map((img) => regionsAround(img, img.truth.filter((t, i) => !t.hard && i % 3 === 0).slice(0, 3)));
  const inMoved = images.map((img, k) => img.truth.filter((t) => moved[k]!.some((r) => inside(t.box, r))));
  for (const model of models) {
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
  const scoredInMoved = inMoved.reduce((n, t) => n + t.filter((x) => !x.hard).length, 0);
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
      `default thresholds (${DETECTOR_DEFAULTS.score_threshold}${thresholds ? `; ${thresholds}` : ''}). "regions": as if every third object moved, ${scoredInMoved} objects in the planned regions scored. ` +
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
function regionsAround(img: EvalImage, moving: EvalImage['truth']): ReturnType<typeof planRegions> {
  const { width, height } = img.image;
  const boxes = moving.map((t) => ({ x: t.box[0], y: t.box[1], width: t.box[2] - t.box[0], height: t.box[3] - t.box[1] }));
  return planRegions(boxes, width, height, pipelineRegionOptions(width, height));
}
