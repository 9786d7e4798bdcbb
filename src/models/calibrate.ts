// Calibration for the int8 detectors: runs the folded fp32 model in onnxruntime on real frames, preprocessed
// exactly as the daemon does (yuv420p at the default detect size; whole frames, a square crop the region
// planner would make around an object, and several such crops packed as tiles of one input), and takes each
// activation's range from its histogram. `npm ci` has no media to calibrate on, so the result is committed
// as statistics, models/calibration/<model>.json, and `vigil models build` quantizes from it.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { DETECTOR_DEFAULTS } from '../config/schema.js';
import { resolveModel } from '../detect/model.js';
import { decodeOutputs, finishDetections, type DecodeOptions, type RawOutput } from '../detect/postprocess.js';
import { fillNeutral, preprocess, tileLayout, type InputTransform } from '../detect/preprocess.js';
import { pipelineRegionOptions, planRegions } from '../detect/regions.js';
import { DEBIAN_MEDIA, SHARED_FIXTURES } from '../dev-media.js';
import type { Rect } from '../image/geometry.js';
import type { YuvImage } from '../image/image.js';
import { bundledFfmpegPath, decodeVideoFrames } from '../ingest/ffmpeg.js';
import { CONVERTER_VERSION } from './build.js';
import { MODELS_DIR, readManifest } from './manifest.js';
import { decodeModel, encodeModel } from './onnx-builder.js';
import { foldForQuantization } from './quantize.js';

/** A frame of a media file: `fixtures/...` (../shared/fixtures) or `debian/...` (.cache/debian); index 0 for photos. */
export interface FrameRef {
  source: string;
  index: number;
}

type RectTuple = [number, number, number, number];

export interface CalibrationFile {
  model: string;
  /** The fp32 model file the ranges are of: the build refuses them for any other. */
  model_sha256: string;
  converter_version: number;
  method: string;
  /** Each frame with the inputs made of it: regions (x, y, width, height in frame pixels); none = the whole frame. */
  frames: Array<FrameRef & { inputs: RectTuple[][] }>;
  /** [min, max] of every tensor of the folded fp32 graph. */
  ranges: Record<string, [number, number]>;
}

/** The daemon's default detect size: cameras' frames reach the detector as yuv420p at this size. */
export const FRAME_SIZE = { width: 640, height: 360 };
export const VTEST = 'fixtures/video/opencv-vtest-pedestrians-720p10.mp4'; // 10 fps, 60 s
export const INTEL = 'fixtures/video/intel-car-detection-720p12.5.mp4'; // 12.5 fps, 30 s
export const vehiclesDev = (n: number): string => `fixtures/vehicles-dev/vd_${String(n).padStart(3, '0')}.jpg`;
const times = <T>(n: number, f: (k: number) => T): T[] => Array.from({ length: n }, (_, k) => f(k));

/**
 * Even seconds of both fixture videos, the odd-numbered frames of vehicles-dev's first half (vd_001-vd_071),
 * and three Debian photos. The tests hold out the rest (odd seconds, the second half) to judge the int8 model.
 */
export const CALIBRATION_FRAMES: readonly FrameRef[] = [
  ...times(30, (k) => ({ source: VTEST, index: 20 * k })),
  ...times(15, (k) => ({ source: INTEL, index: 25 * k })),
  ...times(36, (k) => ({ source: vehiclesDev(2 * k + 1), index: 0 })),
  ...['messi5.jpg', 'astronaut.png', 'motorcycle_left.png'].map((f) => ({ source: `debian/${f}`, index: 0 })),
];

/**
 * Each range is the one that minimises the expected squared error its uint8 grid adds (rounding inside,
 * clipping outside), with errors below zero counted after a LeakyRelu that alone reads the tensor (a
 * convolution's output: its negative side shrinks tenfold). Measured on held-out frames against the
 * probe's 99.999th-percentile ranges (and 99.9999, 99.99, min/max): more of fp32's detections kept at
 * every threshold from 0.25 to 0.5.
 */
const CANDIDATES = 400;
const BINS = 8192;
/** Objects per frame that crops are planned around. */
const CROPS_PER_FRAME = 4;

export function calibrationFile(model: string): string {
  return path.join(MODELS_DIR, 'calibration', `${model}.json`);
}

export function mediaFile(source: string): string {
  const [root, ...rest] = source.split('/');
  const dir = root === 'fixtures' ? SHARED_FIXTURES : root === 'debian' ? DEBIAN_MEDIA : undefined;
  if (!dir) throw new Error(`frame source ${source}: must start with fixtures/ or debian/`);
  const file = path.join(dir, ...rest);
  if (!existsSync(file)) {
    throw new Error(
      `${file} is missing: calibration needs ../shared/fixtures beside the checkout (or VIGIL_FIXTURES=DIR) and the Debian media of scripts/fetch-test-media.sh`,
    );
  }
  return file;
}

/** The frames, decoded by ffmpeg to yuv420p at `size` as a camera's ffmpeg child delivers them (one ffmpeg per file). */
export function decodeFrames(refs: readonly FrameRef[], size = FRAME_SIZE): YuvImage[] {
  const bySource = new Map<string, number[]>();
  for (const r of refs) bySource.set(r.source, [...(bySource.get(r.source) ?? []), r.index]);
  const decoded = new Map<string, YuvImage>();
  for (const [source, indices] of bySource) {
    for (const [n, image] of decodeVideoFrames(bundledFfmpegPath(), mediaFile(source), indices, size.width, size.height)) decoded.set(`${source}#${n}`, image);
  }
  return refs.map((r) => decoded.get(`${r.source}#${r.index}`)!);
}

/** One tensor's values over every calibration input: min/max first, then a histogram between them. */
class ActivationStats {
  min = Infinity;
  max = -Infinity;
  private hist: Float64Array | undefined;

  extend(data: Float32Array): void {
    let { min, max } = this;
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    this.min = min;
    this.max = max;
  }

  count(data: Float32Array): void {
    const hist = (this.hist ??= new Float64Array(BINS));
    const k = this.max > this.min ? BINS / (this.max - this.min) : 0;
    const lo = this.min;
    for (let i = 0; i < data.length; i++) hist[Math.min(BINS - 1, ((data[i]! - lo) * k) | 0)]!++;
  }

  /**
   * The [lo, hi] (lo ≤ 0 ≤ hi) whose 255 steps add the least squared error: s²/12 for each value inside,
   * (f(v) − f(edge))² for each value clipped, where f scales negative values by `negativeWeight`.
   */
  leastSquaredError(negativeWeight: number): [number, number] {
    const hist = this.hist;
    if (!hist || this.max <= this.min) return [Math.min(this.min, 0), Math.max(this.max, 0)];
    const width = (this.max - this.min) / BINS;
    const f = (v: number) => (v < 0 ? negativeWeight * v : v);
    // Prefix sums over bins of n, n·f(v), n·f(v)², n·f'(v)²: every candidate costs O(1).
    const n = new Float64Array(BINS + 1), nf = new Float64Array(BINS + 1), nf2 = new Float64Array(BINS + 1), nd = new Float64Array(BINS + 1);
    for (let i = 0; i < BINS; i++) {
      const v = f(this.min + (i + 0.5) * width);
      const c = hist[i]!;
      n[i + 1] = n[i]! + c;
      nf[i + 1] = nf[i]! + c * v;
      nf2[i + 1] = nf2[i]! + c * v * v;
      nd[i + 1] = nd[i]! + c * (this.min + (i + 0.5) * width < 0 ? negativeWeight * negativeWeight : 1);
    }
    const edge = (x: number) => Math.max(0, Math.min(BINS, Math.round((x - this.min) / width)));
    const lo0 = Math.min(this.min, 0);
    const hi0 = Math.max(this.max, 0);
    let best: [number, number] = [lo0, hi0];
    let bestError = Infinity;
    for (let a = 0; a <= (lo0 < 0 ? CANDIDATES : 0); a++) {
      const lo = (lo0 * a) / CANDIDATES;
      for (let b = hi0 > 0 ? 1 : 0; b <= (hi0 > 0 ? CANDIDATES : 0); b++) {
        const hi = (hi0 * b) / CANDIDATES;
        if (hi <= lo) continue;
        const step = (hi - lo) / 255;
        const il = edge(lo);
        const ih = edge(hi);
        const [flo, fhi] = [f(lo), f(hi)];
        const below = nf2[il]! - 2 * flo * nf[il]! + flo * flo * n[il]!;
        const above = nf2[BINS]! - nf2[ih]! - 2 * fhi * (nf[BINS]! - nf[ih]!) + fhi * fhi * (n[BINS]! - n[ih]!);
        const error = below + above + ((step * step) / 12) * (nd[ih]! - nd[il]!);
        if (error < bestError) {
          bestError = error;
          best = [lo, hi];
        }
      }
    }
    return [round7(best[0]), round7(best[1])];
  }
}

const round7 = (v: number) => Number(v.toPrecision(7));
const tuple = (r: Rect): RectTuple => [r.x, r.y, r.width, r.height];

export interface CalibrateOptions {
  /** The fp32 model to calibrate (built, in models/). */
  model: string;
  frames?: readonly FrameRef[];
  log?: (line: string) => void;
}

export async function calibrate(options: CalibrateOptions): Promise<CalibrationFile> {
  const log = options.log ?? (() => {});
  const refs = options.frames ?? CALIBRATION_FRAMES;
  const model = resolveModel(options.model);
  const entry = readManifest().models[options.model]!;
  const fp32 = readFileSync(model.path);
  const sha256 = createHash('sha256').update(fp32).digest('hex');
  if (sha256 !== entry.sha256) throw new Error(`${model.path} does not match models/manifest.json: run vigil models build first`);

  // Every tensor of the folded graph becomes an output, so one run shows them all.
  const graph = decodeModel(foldForQuantization(fp32));
  const outputs = new Set(graph.outputs.map((o) => o.name));
  const tensors = graph.nodes.flatMap((n) => n.outputs).filter((t) => !outputs.has(t));
  const session = await ort.InferenceSession.create(encodeModel({ ...graph, outputs: [...graph.outputs, ...tensors.map((name) => ({ name }))] }), {
    graphOptimizationLevel: 'basic',
    intraOpNumThreads: os.availableParallelism(),
  });
  const inputName = entry.input.name;
  const { width: W, height: H } = model.input;
  const input = new Float32Array(3 * W * H);
  const watched = [inputName, ...tensors];
  const negativeWeight = (tensor: string): number => {
    const readers = graph.nodes.filter((n) => n.inputs.includes(tensor));
    if (readers.length === 0 || !readers.every((n) => n.op === 'LeakyRelu')) return 1;
    const alpha = readers[0]!.attrs.alpha;
    return typeof alpha === 'object' && 'float' in alpha ? alpha.float : 0.01; // ONNX's default alpha
  };
  const stats = new Map(watched.map((t) => [t, new ActivationStats()]));
  /** Runs one input made as the detect worker makes it: the whole frame, a crop, or crops packed as tiles. */
  const run = async (frame: YuvImage, regions: Rect[], pass: 'extend' | 'count') => {
    let transform: InputTransform | undefined;
    if (regions.length > 1) {
      fillNeutral(model, input);
      tileLayout(regions.length, model.input).forEach((tile, i) => preprocess(frame, model, input, regions[i], tile));
    } else {
      transform = preprocess(frame, model, input, regions[0]);
    }
    const results = await session.run({ [inputName]: new ort.Tensor('float32', input, [1, 3, H, W]) });
    for (const t of watched) stats.get(t)![pass](t === inputName ? input : (results[t]!.data as Float32Array));
    return { results, transform };
  };

  const frames = decodeFrames(refs);
  log(`calibrating ${options.model} on ${frames.length} frames ...`);
  const allowed = new Set(DETECTOR_DEFAULTS.classes.map((label) => model.labels.indexOf(label)));
  const decode: DecodeOptions = {
    scoreThreshold: DETECTOR_DEFAULTS.score_threshold,
    iouThreshold: DETECTOR_DEFAULTS.iou_threshold,
    maxDetections: DETECTOR_DEFAULTS.max_detections,
    allowed: (id) => allowed.has(id),
  };
  const whole = { x: 0, y: 0, ...FRAME_SIZE };
  const regionOptions = pipelineRegionOptions(FRAME_SIZE.width, FRAME_SIZE.height, model.input);
  const plans: Rect[][][] = [];
  for (const frame of frames) {
    const { results, transform } = await run(frame, [], 'extend');
    const raw: Record<string, RawOutput> = {};
    for (const o of entry.outputs) raw[o.name] = { data: results[o.name]!.data as Float32Array, dims: results[o.name]!.dims };
    const found = finishDetections(decodeOutputs(model, raw, decode), transform!, whole, decode);
    // The region the pipeline plans around each of the best objects as if it were a moving track: one
    // alone is a crop, several share an input as tiles, as the detect worker packs them.
    const squares: Rect[] = [];
    for (const d of found.sort((a, b) => b.score - a.score).slice(0, CROPS_PER_FRAME)) {
      const box = { x: d.box[0], y: d.box[1], width: d.box[2] - d.box[0], height: d.box[3] - d.box[1] };
      const [r] = planRegions([box], FRAME_SIZE.width, FRAME_SIZE.height, regionOptions);
      if (r && r.width * r.height < 0.7 * FRAME_SIZE.width * FRAME_SIZE.height && !squares.some((q) => tuple(q).join() === tuple(r).join())) squares.push(r);
    }
    const plan = [[], ...(squares.length > 0 ? [squares.slice(0, 1)] : []), ...(squares.length > 1 ? [squares] : [])];
    plans.push(plan);
    for (const regions of plan.slice(1)) await run(frame, regions, 'extend');
  }
  for (const [i, frame] of frames.entries()) for (const regions of plans[i]!) await run(frame, regions, 'count');
  await session.release();
  log(`${plans.flat().length} inputs from ${frames.length} frames`);
  return {
    model: options.model,
    model_sha256: sha256,
    converter_version: CONVERTER_VERSION,
    method:
      `ranges of least squared quantisation error (errors below zero scaled by a LeakyRelu that alone reads the tensor) ` +
      `over ${BINS}-bin histograms of every tensor of the folded fp32 graph, ` +
      `over each frame as yuv420p ${FRAME_SIZE.width}x${FRAME_SIZE.height} whole, cropped around its best fp32 detection, and cropped around up to ${CROPS_PER_FRAME} as tiles`,
    frames: refs.map((r, i) => ({ ...r, inputs: plans[i]!.map((regions) => regions.map(tuple)) })),
    ranges: Object.fromEntries(watched.map((t) => [t, stats.get(t)!.leastSquaredError(negativeWeight(t))])),
  };
}

/** The file as committed: one line per frame and per tensor, so a recalibration's diff is readable. */
export function formatCalibration(file: CalibrationFile): string {
  const { frames, ranges, ...head } = file;
  const lines = Object.entries(head).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)},`);
  const list = (items: string[]) => items.map((s, i) => `    ${s}${i < items.length - 1 ? ',' : ''}`).join('\n');
  return [
    '{',
    ...lines,
    '  "frames": [',
    list(frames.map((f) => JSON.stringify(f))),
    '  ],',
    '  "ranges": {',
    list(Object.entries(ranges).map(([t, r]) => `${JSON.stringify(t)}: ${JSON.stringify(r)}`)),
    '  }',
    '}',
    '',
  ].join('\n');
}
