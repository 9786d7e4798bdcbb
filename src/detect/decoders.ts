// Turn raw detector output tensors into candidate Detections (boxes in model-input pixels, before
// NMS) for the model families vigil supports: NanoDet(-Plus), CenterNet-style anchor-free heads,
// Ultralytics YOLOv8 and YOLOX. Pure functions over Float32Array so they are cheap to unit-test
// and run once per frame without allocating per tensor element.

import type { Detection } from './nms.js';

export type ClassFilter = (classId: number) => boolean;

/**
 * Resolve the optional filter once per call into a list of class ids, so the hot loops never
 * call back into user code per cell and unwanted classes cost nothing.
 */
function allowedClassIds(numClasses: number, allowed?: ClassFilter): Int32Array {
  if (!allowed) {
    const all = new Int32Array(numClasses);
    for (let c = 0; c < numClasses; c++) all[c] = c;
    return all;
  }
  const ids: number[] = [];
  for (let c = 0; c < numClasses; c++) if (allowed(c)) ids.push(c);
  return Int32Array.from(ids);
}

function assertLength(what: string, actual: number, expected: number): void {
  if (actual !== expected) {
    throw new Error(`${what}: expected ${expected} values, got ${actual}`);
  }
}

/**
 * Expected value of the discrete distribution softmax(logits[offset .. offset+bins)) over bin
 * indices 0..bins-1 (NanoDet's "distribution focal loss" regression). Max-subtracted so large
 * logits cannot overflow exp().
 */
function softmaxExpectation(logits: Float32Array, offset: number, bins: number): number {
  let max = -Infinity;
  for (let k = 0; k < bins; k++) {
    const v = logits[offset + k]!;
    if (v > max) max = v;
  }
  let sum = 0;
  let weighted = 0;
  for (let k = 0; k < bins; k++) {
    const e = Math.exp(logits[offset + k]! - max);
    sum += e;
    weighted += e * k;
  }
  return weighted / sum;
}

/**
 * NanoDet-Plus head: per level, `cls` is [N, numClasses] sigmoid scores and `reg` is
 * [N, 4 * bins] distance-distribution logits (left, top, right, bottom), N = (inputSize/stride)^2.
 * Only the best allowed class per cell is considered, and the softmax (the expensive part) only
 * runs for cells whose best score clears the threshold.
 */
export function decodeNanodet(
  levels: Array<{ stride: number; cls: Float32Array; reg: Float32Array }>,
  inputSize: number | { width: number; height: number },
  numClasses: number,
  scoreThreshold: number,
  allowed?: ClassFilter,
): Detection[] {
  const classIds = allowedClassIds(numClasses, allowed);
  const out: Detection[] = [];
  if (classIds.length === 0) return out;
  for (const { stride, cls, reg } of levels) {
    // NanoDet itself uses ceil so inputs that are not a multiple of the stride still cover the image.
    const { width, height } = typeof inputSize === 'number' ? { width: inputSize, height: inputSize } : inputSize;
    const g = Math.ceil(width / stride);
    const n = g * Math.ceil(height / stride);
    assertLength(`nanodet cls (stride ${stride})`, cls.length, n * numClasses);
    const bins = reg.length / (n * 4);
    if (!Number.isInteger(bins) || bins < 1) {
      throw new Error(`nanodet reg (stride ${stride}): length ${reg.length} is not a multiple of ${n} cells x 4 sides`);
    }
    const regStride = 4 * bins;
    for (let i = 0; i < n; i++) {
      const base = i * numClasses;
      let best = -Infinity;
      let bestClass = -1;
      for (let j = 0; j < classIds.length; j++) {
        const c = classIds[j]!;
        const s = cls[base + c]!;
        if (s > best) {
          best = s;
          bestClass = c;
        }
      }
      if (!(best >= scoreThreshold)) continue;
      const r = i * regStride;
      const l = softmaxExpectation(reg, r, bins) * stride;
      const t = softmaxExpectation(reg, r + bins, bins) * stride;
      const rt = softmaxExpectation(reg, r + 2 * bins, bins) * stride;
      const b = softmaxExpectation(reg, r + 3 * bins, bins) * stride;
      const cx = ((i % g) + 0.5) * stride;
      const cy = (Math.floor(i / g) + 0.5) * stride;
      out.push({ classId: bestClass, score: best, box: [cx - l, cy - t, cx + rt, cy + b] });
    }
  }
  return out;
}

/**
 * CenterNet-style head: `heatmap` is NHWC [gridH, gridW, numClasses] sigmoid scores, `wh` is
 * [gridH, gridW, 4] (left, top, right, bottom) distances in input pixels. A peak is a value
 * >= threshold and >= all in-map 3x3 neighbours of the same class — the usual 3x3 max-pool NMS,
 * so a plateau of equal values yields one detection per plateau cell (NMS later merges them).
 */
export function decodeCenternet(
  heatmap: Float32Array,
  wh: Float32Array,
  gridW: number,
  gridH: number,
  numClasses: number,
  stride: number,
  scoreThreshold: number,
  allowed?: ClassFilter,
): Detection[] {
  assertLength('centernet heatmap', heatmap.length, gridW * gridH * numClasses);
  assertLength('centernet wh', wh.length, gridW * gridH * 4);
  const classIds = allowedClassIds(numClasses, allowed);
  const out: Detection[] = [];
  const rowStride = gridW * numClasses;
  for (let y = 0; y < gridH; y++) {
    const y0 = y > 0 ? y - 1 : 0;
    const y1 = y < gridH - 1 ? y + 1 : y;
    for (let x = 0; x < gridW; x++) {
      const x0 = x > 0 ? x - 1 : 0;
      const x1 = x < gridW - 1 ? x + 1 : x;
      const cell = y * gridW + x;
      for (let j = 0; j < classIds.length; j++) {
        const c = classIds[j]!;
        const v = heatmap[cell * numClasses + c]!;
        if (!(v >= scoreThreshold)) continue;
        let isPeak = true;
        for (let ny = y0; ny <= y1 && isPeak; ny++) {
          for (let nx = x0; nx <= x1; nx++) {
            if (heatmap[ny * rowStride + nx * numClasses + c]! > v) {
              isPeak = false;
              break;
            }
          }
        }
        if (!isPeak) continue;
        const w = cell * 4;
        const px = x * stride;
        const py = y * stride;
        out.push({
          classId: c,
          score: v,
          box: [px - wh[w]!, py - wh[w + 1]!, px + wh[w + 2]!, py + wh[w + 3]!],
        });
      }
    }
  }
  return out;
}

/** Product of leading dims, which must all be 1 (batch); returns the last two dims. */
function lastTwoDims(name: string, dims: readonly number[]): [number, number] {
  if (dims.length < 2) throw new Error(`${name}: expected dims [1, A, B], got [${dims.join(', ')}]`);
  for (let i = 0; i < dims.length - 2; i++) {
    if (dims[i] !== 1) throw new Error(`${name}: only batch size 1 is supported, got dims [${dims.join(', ')}]`);
  }
  return [dims[dims.length - 2]!, dims[dims.length - 1]!];
}

/**
 * Ultralytics YOLOv8 output: [1, 4 + C, N] (channel-major, the default export) or the transposed
 * [1, N, 4 + C]. Rows 0..3 are cx, cy, w, h in input pixels, the rest sigmoid class scores with
 * no objectness. When both dims equal 4 + C the Ultralytics default layout is assumed.
 */
export function decodeYolov8(
  output: Float32Array,
  dims: readonly number[],
  numClasses: number,
  scoreThreshold: number,
  allowed?: ClassFilter,
): Detection[] {
  const [a, b] = lastTwoDims('yolov8 output', dims);
  const channels = 4 + numClasses;
  let channelMajor: boolean;
  if (a === channels) channelMajor = true;
  else if (b === channels) channelMajor = false;
  else throw new Error(`yolov8 output: no dim equals 4 + ${numClasses} classes in [${dims.join(', ')}]`);
  const n = channelMajor ? b : a;
  assertLength('yolov8 output', output.length, n * channels);
  const classIds = allowedClassIds(numClasses, allowed);
  const out: Detection[] = [];
  if (classIds.length === 0 || n === 0) return out;

  // Element (anchor i, channel c) lives at i*anchorStep + c*channelStep in either layout.
  const anchorStep = channelMajor ? 1 : channels;
  const channelStep = channelMajor ? n : 1;
  const bestScore = new Float32Array(n).fill(-Infinity);
  const bestClass = new Int32Array(n);
  // Class-outer loop so the channel-major layout (the common one) is read sequentially.
  for (let j = 0; j < classIds.length; j++) {
    const c = classIds[j]!;
    const rowBase = (4 + c) * channelStep;
    for (let i = 0; i < n; i++) {
      const s = output[rowBase + i * anchorStep]!;
      if (s > bestScore[i]!) {
        bestScore[i] = s;
        bestClass[i] = c;
      }
    }
  }
  for (let i = 0; i < n; i++) {
    const score = bestScore[i]!;
    if (!(score >= scoreThreshold)) continue;
    const base = i * anchorStep;
    const cx = output[base]!;
    const cy = output[base + channelStep]!;
    const hw = output[base + 2 * channelStep]! / 2;
    const hh = output[base + 3 * channelStep]! / 2;
    out.push({ classId: bestClass[i]!, score, box: [cx - hw, cy - hh, cx + hw, cy + hh] });
  }
  return out;
}

export interface YoloxOptions {
  /** True when the export already applied the grid/stride decode (x, y, w, h are cx, cy, w, h pixels). */
  decoded?: boolean;
  /** Feature-map strides in output order; YOLOX uses [8, 16, 32]. */
  strides?: number[];
}

/**
 * YOLOX output [1, N, 5 + C]: x, y, w, h, objectness, class scores (sigmoid). The official ONNX
 * export leaves boxes relative to grid cells (decoded = false), so anchors are rebuilt from the
 * strides: each level row-major over floor(height/stride) x floor(width/stride) cells, matching
 * YOLOX's own `img_size // stride`. Score is objectness x best class score.
 */
export function decodeYolox(
  output: Float32Array,
  dims: readonly number[],
  inputSize: { width: number; height: number },
  numClasses: number,
  scoreThreshold: number,
  options?: YoloxOptions,
  allowed?: ClassFilter,
): Detection[] {
  const [n, channels] = lastTwoDims('yolox output', dims);
  if (channels !== 5 + numClasses) {
    throw new Error(`yolox output: last dim is ${channels}, expected 5 + ${numClasses} classes`);
  }
  assertLength('yolox output', output.length, n * channels);
  const decoded = options?.decoded ?? false;
  const strides = options?.strides ?? [8, 16, 32];

  // Per-anchor grid origin and stride; Float32 is exact for grid indices and power-of-two strides.
  let gridX: Float32Array | undefined;
  let gridY: Float32Array | undefined;
  let anchorStride: Float32Array | undefined;
  if (!decoded) {
    let total = 0;
    for (const s of strides) total += Math.floor(inputSize.height / s) * Math.floor(inputSize.width / s);
    if (total !== n) {
      throw new Error(
        `yolox output: ${n} anchors but strides [${strides.join(', ')}] on ` +
          `${inputSize.width}x${inputSize.height} give ${total} grid cells (wrong input size, strides, or decoded flag?)`,
      );
    }
    gridX = new Float32Array(n);
    gridY = new Float32Array(n);
    anchorStride = new Float32Array(n);
    let k = 0;
    for (const s of strides) {
      const gh = Math.floor(inputSize.height / s);
      const gw = Math.floor(inputSize.width / s);
      for (let gy = 0; gy < gh; gy++) {
        for (let gx = 0; gx < gw; gx++, k++) {
          gridX[k] = gx;
          gridY[k] = gy;
          anchorStride[k] = s;
        }
      }
    }
  }

  const classIds = allowedClassIds(numClasses, allowed);
  const out: Detection[] = [];
  if (classIds.length === 0) return out;
  for (let i = 0; i < n; i++) {
    const base = i * channels;
    const obj = output[base + 4]!;
    // Class scores are sigmoid (<= 1), so objectness alone bounds the final score.
    if (!(obj >= scoreThreshold)) continue;
    let best = -Infinity;
    let bestClass = -1;
    for (let j = 0; j < classIds.length; j++) {
      const c = classIds[j]!;
      const s = output[base + 5 + c]!;
      if (s > best) {
        best = s;
        bestClass = c;
      }
    }
    const score = obj * best;
    if (!(score >= scoreThreshold)) continue;
    let cx = output[base]!;
    let cy = output[base + 1]!;
    let w = output[base + 2]!;
    let h = output[base + 3]!;
    if (gridX && gridY && anchorStride) {
      const s = anchorStride[i]!;
      cx = (cx + gridX[i]!) * s;
      cy = (cy + gridY[i]!) * s;
      w = Math.exp(w) * s;
      h = Math.exp(h) * s;
    }
    out.push({ classId: bestClass, score, box: [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2] });
  }
  return out;
}
