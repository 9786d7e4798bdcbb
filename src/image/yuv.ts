// yuv420p (what ingest delivers) to interleaved RGB, for snapshots and colour: BT.601 limited range.
import type { RgbImage, YuvImage } from './image.js';

export function yuv420pToRgb(image: YuvImage): RgbImage {
  const { width, height, data } = image;
  const out = Buffer.allocUnsafe(width * height * 3);
  const cw = width >> 1;
  const uBase = width * height;
  const vBase = uBase + cw * (height >> 1);
  for (let y = 0; y < height; y++) {
    const crow = (y >> 1) * cw;
    for (let x = 0; x < width; x++) {
      const l = 1.164 * (data[y * width + x]! - 16);
      const ci = crow + (x >> 1);
      const u = data[uBase + ci]! - 128;
      const v = data[vBase + ci]! - 128;
      const o = (y * width + x) * 3;
      out[o] = clamp(l + 1.596 * v);
      out[o + 1] = clamp(l - 0.392 * u - 0.813 * v);
      out[o + 2] = clamp(l + 2.017 * u);
    }
  }
  return { kind: 'rgb', width, height, data: out };
}

function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v + 0.5;
}
