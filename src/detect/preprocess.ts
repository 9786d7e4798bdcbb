// Turns a camera frame (yuv420p, as ingest delivers it) or a decoded photo (RGB) into a model's input
// tensor in one pass: crop, resize (bilinear), colour conversion and normalisation together, writing
// planar NCHW floats. Nothing else on the detection path touches every pixel.
import type { ModelSpec } from '../models/catalog.js';

export interface RgbImage {
  kind: 'rgb';
  width: number;
  height: number;
  /** Interleaved R, G, B bytes, row by row. */
  data: Uint8Array;
}

export interface YuvImage {
  kind: 'yuv420p';
  width: number;
  height: number;
  /** Y plane, then U and V at half resolution. */
  data: Uint8Array;
}

export type Image = RgbImage | YuvImage;

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Maps model-input pixels back to source pixels: source = offset + model × scale. */
export interface InputTransform {
  scaleX: number;
  scaleY: number;
  offsetX: number;
  offsetY: number;
}

// Letterbox bars get the grey the YOLO family pads with.
const PAD_VALUE = 114;

export function imageBytes(kind: Image['kind'], width: number, height: number): number {
  return kind === 'rgb' ? width * height * 3 : width * height + 2 * (width / 2) * (height / 2);
}

export function validateImage(image: Image): void {
  const expected = imageBytes(image.kind, image.width, image.height);
  if (image.data.length < expected) {
    throw new Error(`${image.kind} image ${image.width}x${image.height} needs ${expected} bytes, got ${image.data.length}`);
  }
}

/**
 * Writes `spec`'s input for `region` of `image` into `out` (length 3 × W × H) and returns how to map
 * boxes back. Regions are clipped to the image.
 */
export function preprocess(image: Image, spec: ModelSpec, out: Float32Array, region?: Rect): InputTransform {
  validateImage(image);
  const { width: W, height: H } = spec.input;
  const r = clip(region ?? { x: 0, y: 0, width: image.width, height: image.height }, image);
  let scaleX = r.width / W;
  let scaleY = r.height / H;
  let padX = 0;
  let padY = 0;
  let innerW = W;
  let innerH = H;
  if (spec.resize === 'letterbox') {
    const s = Math.max(scaleX, scaleY);
    scaleX = scaleY = s;
    innerW = Math.min(W, Math.round(r.width / s));
    innerH = Math.min(H, Math.round(r.height / s));
    padX = Math.floor((W - innerW) / 2);
    padY = Math.floor((H - innerH) / 2);
  }
  const { order, mean, std } = spec.normalisation;
  // Lookup tables: value → normalised float, per output channel.
  const lut = [0, 1, 2].map((c) => {
    const t = new Float32Array(256);
    for (let v = 0; v < 256; v++) t[v] = (v - mean[c]!) / std[c]!;
    return t;
  }) as [Float32Array, Float32Array, Float32Array];
  // Channel c of the model reads RGB channel rgbIndex[c].
  const rgbIndex = order === 'rgb' ? [0, 1, 2] : [2, 1, 0];
  const plane = W * H;
  if (spec.resize === 'letterbox') {
    for (let c = 0; c < 3; c++) out.fill(lut[c]![PAD_VALUE]!, c * plane, (c + 1) * plane);
  }

  // Per output column: left source column and its weight (sampling at pixel centres).
  const x0s = new Int32Array(innerW);
  const xw = new Float32Array(innerW);
  for (let x = 0; x < innerW; x++) {
    const sx = Math.min(Math.max(r.x + (x + 0.5) * (r.width / innerW) - 0.5, 0), image.width - 1);
    x0s[x] = Math.min(Math.floor(sx), image.width - 2 < 0 ? 0 : image.width - 2);
    xw[x] = sx - x0s[x]!;
  }
  const rgb = new Float32Array(3);
  const sample = image.kind === 'rgb' ? rgbSampler(image) : yuvSampler(image);
  for (let y = 0; y < innerH; y++) {
    const sy = Math.min(Math.max(r.y + (y + 0.5) * (r.height / innerH) - 0.5, 0), image.height - 1);
    const y0 = Math.min(Math.floor(sy), Math.max(image.height - 2, 0));
    const wy = sy - y0;
    const rowBase = (y + padY) * W + padX;
    for (let x = 0; x < innerW; x++) {
      sample(x0s[x]!, y0, xw[x]!, wy, rgb);
      const o = rowBase + x;
      out[o] = lut[0][rgb[rgbIndex[0]!]!]!;
      out[plane + o] = lut[1][rgb[rgbIndex[1]!]!]!;
      out[2 * plane + o] = lut[2][rgb[rgbIndex[2]!]!]!;
    }
  }
  return { scaleX, scaleY, offsetX: r.x - padX * scaleX, offsetY: r.y - padY * scaleY };
}

function clip(r: Rect, image: { width: number; height: number }): Rect {
  const x = Math.max(0, Math.min(Math.round(r.x), image.width - 1));
  const y = Math.max(0, Math.min(Math.round(r.y), image.height - 1));
  const width = Math.max(1, Math.min(Math.round(r.width), image.width - x));
  const height = Math.max(1, Math.min(Math.round(r.height), image.height - y));
  return { x, y, width, height };
}

type Sampler = (x0: number, y0: number, wx: number, wy: number, out: Float32Array) => void;

function rgbSampler(image: RgbImage): Sampler {
  const { data, width, height } = image;
  const stride = width * 3;
  return (x0, y0, wx, wy, out) => {
    const x1 = x0 + 1 < width ? 3 : 0;
    const y1 = y0 + 1 < height ? stride : 0;
    const p = y0 * stride + x0 * 3;
    for (let c = 0; c < 3; c++) {
      const a = data[p + c]!, b = data[p + x1 + c]!, d = data[p + y1 + c]!, e = data[p + y1 + x1 + c]!;
      const top = a + (b - a) * wx;
      const bottom = d + (e - d) * wx;
      out[c] = Math.round(top + (bottom - top) * wy);
    }
  };
}

/** Bilinear luma, nearest chroma, BT.601 limited range (what cameras and ffmpeg's yuv420p use). */
function yuvSampler(image: YuvImage): Sampler {
  const { data, width, height } = image;
  const cw = width >> 1;
  const uBase = width * height;
  const vBase = uBase + cw * (height >> 1);
  return (x0, y0, wx, wy, out) => {
    const x1 = x0 + 1 < width ? 1 : 0;
    const y1 = y0 + 1 < height ? width : 0;
    const p = y0 * width + x0;
    const a = data[p]!, b = data[p + x1]!, d = data[p + y1]!, e = data[p + y1 + x1]!;
    const top = a + (b - a) * wx;
    const luma = top + (d + (e - d) * wx - top) * wy;
    const cx = (x0 + (wx >= 0.5 ? 1 : 0)) >> 1;
    const cy = (y0 + (wy >= 0.5 ? 1 : 0)) >> 1;
    const ci = Math.min(cy, (height >> 1) - 1) * cw + Math.min(cx, cw - 1);
    const u = data[uBase + ci]! - 128;
    const v = data[vBase + ci]! - 128;
    const l = 1.164 * (luma - 16);
    out[0] = clamp255(l + 1.596 * v);
    out[1] = clamp255(l - 0.392 * u - 0.813 * v);
    out[2] = clamp255(l + 2.017 * u);
  };
}

function clamp255(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}
