// Turns a camera frame (yuv420p, as ingest delivers it) or a decoded photo (RGB) into a model's input
// tensor in one pass: crop, resize (bilinear), colour conversion and normalisation together, writing
// planar NCHW floats. Nothing else on the detection path touches every pixel.
import type { Rect } from '../image/geometry.js';
import { validateImage, type Image, type RgbImage, type YuvImage } from '../image/image.js';
import type { ModelSpec } from '../models/catalog.js';

/** Maps model-input pixels back to source pixels: source = offset + model × scale. */
export interface InputTransform {
  scaleX: number;
  scaleY: number;
  offsetX: number;
  offsetY: number;
}

// Letterbox bars get the grey the YOLO family pads with.
const PAD_VALUE = 114;

/**
 * Writes `spec`'s input for `region` of `image` into `out` (length 3 × W × H) and returns how to map
 * boxes back. Regions are clipped to the image. With `tile` (a rectangle of the model's input) only that
 * part of `out` is written: several regions share one inference (see tileLayout).
 */
export function preprocess(image: Image, spec: ModelSpec, out: Float32Array, region?: Rect, tile?: Rect): InputTransform {
  validateImage(image);
  const { width: W, height: H } = spec.input;
  const target = tile ?? { x: 0, y: 0, width: W, height: H };
  const r = clip(region ?? { x: 0, y: 0, width: image.width, height: image.height }, image);
  let scaleX = r.width / target.width;
  let scaleY = r.height / target.height;
  let padX = target.x;
  let padY = target.y;
  let innerW = target.width;
  let innerH = target.height;
  if (spec.resize === 'letterbox') {
    const s = Math.max(scaleX, scaleY);
    scaleX = scaleY = s;
    innerW = Math.min(target.width, Math.round(r.width / s));
    innerH = Math.min(target.height, Math.round(r.height / s));
    padX += Math.floor((target.width - innerW) / 2);
    padY += Math.floor((target.height - innerH) / 2);
  }
  const { a, b, src } = channelMaps(spec);
  const plane = W * H;
  if (spec.resize === 'letterbox' && !tile) fillNeutral(spec, out);
  // Per output column: left source column and its weight (sampling at pixel centres).
  const x0s = new Int32Array(innerW);
  const xw = new Float32Array(innerW);
  const lastX = Math.max(image.width - 2, 0);
  for (let x = 0; x < innerW; x++) {
    const sx = Math.min(Math.max(r.x + (x + 0.5) * (r.width / innerW) - 0.5, 0), image.width - 1);
    x0s[x] = Math.min(Math.floor(sx), lastX);
    xw[x] = sx - x0s[x]!;
  }
  const rows = { innerW, innerH, padX, padY, W, plane, x0s, xw, r, out };
  // Written out per pixel format, without per-pixel calls: this loop is the only per-pixel work on the
  // detection path (measured 13 ms → ~3 ms per 416x416 input against a generic sampler).
  if (image.kind === 'rgb') fillFromRgb(image, rows, src, a, b);
  else fillFromYuv(image, rows, src, a, b);
  return { scaleX, scaleY, offsetX: r.x - padX * scaleX, offsetY: r.y - padY * scaleY };
}

/** Fills the whole input with the grey letterbox bars and empty tiles get: nothing for a detector to find. */
export function fillNeutral(spec: ModelSpec, out: Float32Array): void {
  const { a, b } = channelMaps(spec);
  const plane = spec.input.width * spec.input.height;
  for (let c = 0; c < 3; c++) out.fill(PAD_VALUE * a[c]! + b[c]!, c * plane, (c + 1) * plane);
}

/** out = v × a + b per model channel; model channel c reads RGB channel src[c]. */
function channelMaps(spec: ModelSpec): { a: number[]; b: number[]; src: number[] } {
  const { order, mean, std } = spec.normalisation;
  return {
    src: order === 'rgb' ? [0, 1, 2] : [2, 1, 0],
    a: [0, 1, 2].map((c) => 1 / std[c]!),
    b: [0, 1, 2].map((c) => -mean[c]! / std[c]!),
  };
}

/**
 * Where each of `count` regions goes in one model input: one region fills it; two to four share a 2×2
 * grid, each at about its native scale (the planner's regions are 0.6-1 × the frame's height, and a
 * 416 input's quarter is 208 px: 640x360 frames lose little), for one inference instead of several.
 */
export function tileLayout(count: number, input: { width: number; height: number }): Rect[] {
  if (count <= 1) return [{ x: 0, y: 0, width: input.width, height: input.height }];
  if (count > 4) throw new Error(`at most 4 regions share an input, got ${count}`);
  const w = Math.floor(input.width / 2);
  const h = Math.floor(input.height / 2);
  return Array.from({ length: count }, (_, i) => ({ x: (i % 2) * w, y: Math.floor(i / 2) * h, width: w, height: h }));
}

interface Rows {
  innerW: number;
  innerH: number;
  padX: number;
  padY: number;
  W: number;
  plane: number;
  x0s: Int32Array;
  xw: Float32Array;
  r: Rect;
  out: Float32Array;
}

function rowOf(y: number, rows: Rows, height: number): { y0: number; wy: number } {
  const sy = Math.min(Math.max(rows.r.y + (y + 0.5) * (rows.r.height / rows.innerH) - 0.5, 0), height - 1);
  const y0 = Math.min(Math.floor(sy), Math.max(height - 2, 0));
  return { y0, wy: sy - y0 };
}

function fillFromRgb(image: RgbImage, rows: Rows, src: number[], a: number[], b: number[]): void {
  const { data, width, height } = image;
  const { innerW, innerH, padX, padY, W, plane, x0s, xw, out } = rows;
  const stride = width * 3;
  const [s0, s1, s2] = src as [number, number, number];
  const [a0, a1, a2] = a as [number, number, number];
  const [b0, b1, b2] = b as [number, number, number];
  const dx = width > 1 ? 3 : 0;
  for (let y = 0; y < innerH; y++) {
    const { y0, wy } = rowOf(y, rows, height);
    const top = y0 * stride;
    const bottom = y0 + 1 < height ? top + stride : top;
    let o = (y + padY) * W + padX;
    for (let x = 0; x < innerW; x++, o++) {
      const px = x0s[x]! * 3;
      const wx = xw[x]!;
      const p = top + px;
      const q = bottom + px;
      const w00 = (1 - wx) * (1 - wy), w01 = wx * (1 - wy), w10 = (1 - wx) * wy, w11 = wx * wy;
      const c0 = data[p + s0]! * w00 + data[p + dx + s0]! * w01 + data[q + s0]! * w10 + data[q + dx + s0]! * w11;
      const c1 = data[p + s1]! * w00 + data[p + dx + s1]! * w01 + data[q + s1]! * w10 + data[q + dx + s1]! * w11;
      const c2 = data[p + s2]! * w00 + data[p + dx + s2]! * w01 + data[q + s2]! * w10 + data[q + dx + s2]! * w11;
      out[o] = c0 * a0 + b0;
      out[plane + o] = c1 * a1 + b1;
      out[2 * plane + o] = c2 * a2 + b2;
    }
  }
}

/** Bilinear luma, nearest chroma, BT.601 limited range (what cameras and ffmpeg's yuv420p use). */
function fillFromYuv(image: YuvImage, rows: Rows, src: number[], a: number[], b: number[]): void {
  const { data, width, height } = image;
  const { innerW, innerH, padX, padY, W, plane, x0s, xw, out } = rows;
  const cw = width >> 1;
  const ch = height >> 1;
  const uBase = width * height;
  const vBase = uBase + cw * ch;
  const cx = new Int32Array(innerW);
  for (let x = 0; x < innerW; x++) cx[x] = Math.min((x0s[x]! + (xw[x]! >= 0.5 ? 1 : 0)) >> 1, cw - 1);
  const dx = width > 1 ? 1 : 0;
  // Output channel k takes RGB channel src[k]; keep its coefficients in RGB order.
  const ak = [0, 0, 0], bk = [0, 0, 0], slot = [0, 0, 0];
  for (let k = 0; k < 3; k++) {
    ak[src[k]!] = a[k]!;
    bk[src[k]!] = b[k]!;
    slot[src[k]!] = k * plane;
  }
  const [aR, aG, aB] = ak as [number, number, number];
  const [bR, bG, bB] = bk as [number, number, number];
  const [oR, oG, oB] = slot as [number, number, number];
  for (let y = 0; y < innerH; y++) {
    const { y0, wy } = rowOf(y, rows, height);
    const top = y0 * width;
    const bottom = y0 + 1 < height ? top + width : top;
    const crow = Math.min((y0 + (wy >= 0.5 ? 1 : 0)) >> 1, ch - 1) * cw;
    let o = (y + padY) * W + padX;
    for (let x = 0; x < innerW; x++, o++) {
      const px = x0s[x]!;
      const wx = xw[x]!;
      const t = data[top + px]! + (data[top + px + dx]! - data[top + px]!) * wx;
      const d = data[bottom + px]! + (data[bottom + px + dx]! - data[bottom + px]!) * wx;
      const l = 1.164 * (t + (d - t) * wy - 16);
      const ci = crow + cx[x]!;
      const u = data[uBase + ci]! - 128;
      const v = data[vBase + ci]! - 128;
      let R = l + 1.596 * v;
      let G = l - 0.392 * u - 0.813 * v;
      let B = l + 2.017 * u;
      R = R < 0 ? 0 : R > 255 ? 255 : R;
      G = G < 0 ? 0 : G > 255 ? 255 : G;
      B = B < 0 ? 0 : B > 255 ? 255 : B;
      out[oR + o] = R * aR + bR;
      out[oG + o] = G * aG + bG;
      out[oB + o] = B * aB + bB;
    }
  }
}

function clip(r: Rect, image: { width: number; height: number }): Rect {
  const x = Math.max(0, Math.min(Math.round(r.x), image.width - 1));
  const y = Math.max(0, Math.min(Math.round(r.y), image.height - 1));
  const width = Math.max(1, Math.min(Math.round(r.width), image.width - x));
  const height = Math.max(1, Math.min(Math.round(r.height), image.height - y));
  return { x, y, width, height };
}
