import { describe, expect, it } from 'vitest';
import type { ModelSpec } from '../../src/models/catalog.js';
import { preprocess } from '../../src/detect/preprocess.js';
import { type RgbImage, type YuvImage } from '../../src/image/image.js';

const spec = (over: Partial<ModelSpec> = {}): ModelSpec => ({
  id: 't',
  format: 'yolov8',
  input: { width: 8, height: 8 },
  normalisation: { order: 'rgb', mean: [0, 0, 0], std: [1, 1, 1] },
  resize: 'stretch',
  labels: ['a'],
  ...over,
});

/** A 16×8 RGB image: left half red (255,0,0), right half blue (0,0,255). */
function halves(): RgbImage {
  const data = new Uint8Array(16 * 8 * 3);
  for (let y = 0; y < 8; y++) for (let x = 0; x < 16; x++) data.set(x < 8 ? [255, 0, 0] : [0, 0, 255], (y * 16 + x) * 3);
  return { kind: 'rgb', width: 16, height: 8, data };
}

const at = (out: Float32Array, c: number, x: number, y: number, w = 8, h = 8) => out[c * w * h + y * w + x]!;

describe('preprocess', () => {
  it('stretches, writes planar channels in the model\'s order, and normalises', () => {
    const out = new Float32Array(3 * 64);
    const t = preprocess(halves(), spec(), out);
    expect(t).toEqual({ scaleX: 2, scaleY: 1, offsetX: 0, offsetY: 0 });
    expect([at(out, 0, 1, 3), at(out, 2, 1, 3)]).toEqual([255, 0]);
    expect([at(out, 0, 6, 3), at(out, 2, 6, 3)]).toEqual([0, 255]);
    const bgr = new Float32Array(3 * 64);
    preprocess(halves(), spec({ normalisation: { order: 'bgr', mean: [10, 20, 30], std: [2, 4, 5] } }), bgr);
    // Channel 0 is now blue: (0 − 10) / 2 on the red side.
    expect(at(bgr, 0, 1, 3)).toBe(-5);
    expect(at(bgr, 2, 1, 3)).toBe((255 - 30) / 5);
  });

  it('letterboxes with grey bars and maps model pixels back to the image', () => {
    const out = new Float32Array(3 * 64);
    const t = preprocess(halves(), spec({ resize: 'letterbox' }), out);
    // 16×8 into 8×8 at scale 2: 4 rows of picture, 2 rows of bars above and below.
    expect(t).toEqual({ scaleX: 2, scaleY: 2, offsetX: 0, offsetY: -4 });
    expect(at(out, 0, 3, 0)).toBe(114);
    expect(at(out, 0, 1, 3)).toBe(255);
    expect(at(out, 0, 3, 7)).toBe(114);
    // Model point (4, 4) is the image's centre.
    expect([t.offsetX + 4 * t.scaleX, t.offsetY + 4 * t.scaleY]).toEqual([8, 4]);
  });

  it('crops a region: only its pixels reach the model, and the transform maps back into it', () => {
    const out = new Float32Array(3 * 64);
    const t = preprocess(halves(), spec(), out, { x: 8, y: 0, width: 8, height: 8 });
    expect(t).toEqual({ scaleX: 1, scaleY: 1, offsetX: 8, offsetY: 0 });
    for (let i = 0; i < 64; i++) expect([out[i], out[128 + i]]).toEqual([0, 255]);
  });

  it('converts yuv420p (BT.601 limited range) to RGB', () => {
    const w = 8, h = 8;
    const data = new Uint8Array(w * h * 1.5);
    data.fill(81, 0, w * h); // Y of pure red
    data.fill(90, w * h, w * h * 1.25); // U
    data.fill(240, w * h * 1.25); // V
    const frame: YuvImage = { kind: 'yuv420p', width: w, height: h, data };
    const out = new Float32Array(3 * 64);
    preprocess(frame, spec(), out);
    expect(Math.abs(at(out, 0, 4, 4) - 255)).toBeLessThanOrEqual(2);
    expect(at(out, 1, 4, 4)).toBeLessThanOrEqual(2);
    expect(at(out, 2, 4, 4)).toBeLessThanOrEqual(2);
  });

  it('rejects a buffer too small for its stated size', () => {
    expect(() => preprocess({ kind: 'yuv420p', width: 8, height: 8, data: new Uint8Array(10) }, spec(), new Float32Array(192))).toThrow(
      'yuv420p image 8x8 needs 96 bytes, got 10',
    );
  });
});
