// The hand-labelled detection evaluation set (benchmarks/accuracy/detection-eval.json, provenance in its
// README): its images decoded as the daemon sees them, and precision/recall matching at IoU ≥ 0.5. Shared by
// `npm run bench -- accuracy` and the test that keeps `vigil models list`'s accuracy figures true.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { LabeledDetection } from '../../src/detect/detector.js';
import { readImageFile } from '../../src/detect/image-file.js';
import { iou, type Box } from '../../src/image/geometry.js';
import type { Image } from '../../src/image/image.js';
import { bundledFfmpegPath, decodeVideoFrames } from '../../src/ingest/ffmpeg.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { labelGroup } from '../../src/vocabulary/labels.js';
import { debianMedia, sharedFixture } from './media-paths.js';

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
/** The daemon's default detect size for a source of this size: 640 wide, the height keeping the camera's
 * aspect (even, as yuv420p needs). Shared by the evaluation sets' loaders. */
export function detectSize(width: number, height: number): { width: number; height: number } {
  return { width: 640, height: 2 * Math.round((640 * height) / width / 2) };
}

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
    const size = detectSize(source.width, source.height);
    const sx = size.width / source.width;
    const sy = size.height / source.height;
    // One decode per video: exactly the pixels the labeller saw, scaled with ffmpeg's default (bicubic), the
    // scaler the published figures were measured with (ingest's bilinear would move them by up to 1.4 points).
    const decoded = decodeVideoFrames(bundledFfmpegPath(), media, frames.map((f) => f.frame!), size.width, size.height, 'bicubic');
    for (const f of frames) {
      out.push({ name: `${name}#${f.frame}`, image: decoded.get(f.frame!)!, truth: truthOf(f.boxes, sx, sy) });
    }
  }
  return out;
}

function truthOf(boxes: LabelledBox[], sx: number, sy: number): EvalImage['truth'] {
  return boxes.map((b) => ({ label: b.label, hard: b.hard === true, box: [b.box[0] * sx, b.box[1] * sy, (b.box[0] + b.box[2]) * sx, (b.box[1] + b.box[3]) * sy] }));
}

/** Classes scored: people, and vehicles as one group (the labels within it are scored apart as well). */
export const SCORED = ['person', 'vehicle', 'car', 'truck', 'bus', 'motorcycle', 'bicycle'] as const;
export const classOf = (label: string, scored: string) => (scored === 'vehicle' ? labelGroup(label) === 'vehicle' : label === scored);

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

