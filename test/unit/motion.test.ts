import { describe, expect, it } from 'vitest';
import { MotionSchema } from '../../src/config/schema.js';
import { MotionActivity } from '../../src/motion/motion-activity.js';
import { MotionDetector } from '../../src/motion/motion-detector.js';
import { type Polygon } from '../../src/image/geometry.js';

const W = 320, H = 180;
const settings = MotionSchema.parse({ width: 160 });

/** A grey frame (with a little fixed texture) and optional bright rectangles. */
function frame(boxes: Array<[number, number, number, number]> = [], level = 100, gain = 1): Uint8Array {
  const y = new Uint8Array(W * H);
  for (let i = 0; i < y.length; i++) y[i] = Math.min(255, Math.round((level + ((i * 7) % 11)) * gain));
  for (const [x0, y0, w, h] of boxes) for (let r = y0; r < y0 + h; r++) y.fill(220, r * W + x0, r * W + x0 + w);
  return y;
}

function settle(md: MotionDetector, n = 6): void {
  for (let i = 0; i < n; i++) md.detect(frame());
}

describe('MotionDetector', () => {
  it('calibrates first, then reports nothing for a still picture', () => {
    const md = new MotionDetector(W, H, settings);
    expect(md.detect(frame()).calibrating).toBe(true);
    settle(md);
    expect(md.detect(frame())).toEqual({ boxes: [], changed: 0, calibrating: false });
  });

  it('boxes a moving object where it is, in frame pixels', () => {
    const md = new MotionDetector(W, H, settings);
    settle(md);
    for (const x of [40, 60, 80]) {
      const r = md.detect(frame([[x, 50, 20, 40]]));
      expect(r.boxes).toHaveLength(1);
      const b = r.boxes[0]!;
      // Dilation widens it by a grid cell or two around the true box.
      expect(b.x).toBeLessThanOrEqual(x);
      expect(b.x + b.width).toBeGreaterThanOrEqual(x + 20);
      expect(b.x).toBeGreaterThanOrEqual(x - 6);
      expect(b.y).toBeGreaterThanOrEqual(44);
      expect(b.y + b.height).toBeLessThanOrEqual(96);
    }
  });

  it('keeps two distant objects apart and drops specks below min_area', () => {
    const md = new MotionDetector(W, H, settings);
    settle(md);
    const r = md.detect(frame([[20, 20, 20, 30], [250, 120, 24, 40], [160, 5, 2, 2]]));
    expect(r.boxes).toHaveLength(2);
    expect(r.boxes.map((b) => b.x < 160)).toEqual([true, false]);
  });

  it('ignores masked areas', () => {
    const mask: Polygon = [[0, 0], [0.5, 0], [0.5, 1], [0, 1]];
    const md = new MotionDetector(W, H, settings, [mask]);
    settle(md);
    const r = md.detect(frame([[20, 20, 30, 30], [250, 120, 24, 40]]));
    expect(r.boxes).toHaveLength(1);
    expect(r.boxes[0]!.x).toBeGreaterThan(200);
  });

  it('treats a lighting jump as recalibration, not motion', () => {
    // A street lamp comes on over half the picture: no uniform gain explains it.
    const lit = () => {
      const f = frame();
      for (let r = 0; r < H; r++) for (let x = 0; x < W / 2; x++) f[r * W + x] = f[r * W + x]! + 90;
      return f;
    };
    const md = new MotionDetector(W, H, settings);
    settle(md);
    const jump = md.detect(lit());
    expect(jump.calibrating).toBe(true);
    expect(jump.boxes).toEqual([]);
    for (let i = 0; i < 3; i++) md.detect(lit());
    expect(md.detect(lit())).toMatchObject({ boxes: [], calibrating: false });
  });

  it('is not fooled by auto-exposure scaling the whole picture', () => {
    const md = new MotionDetector(W, H, settings);
    settle(md);
    // 30% brighter overall: 30 grey levels, above the threshold, but the same scene.
    expect(md.detect(frame([], 100, 1.3)).boxes).toEqual([]);
  });
});

describe('MotionActivity', () => {
  const box = { x: 0, y: 0, width: 10, height: 10 };
  it('starts an event after start_frames of motion and ends it after the quiet period', () => {
    const a = new MotionActivity(2, 1000);
    expect(a.update([box], 0.01, 0)).toEqual({});
    expect(a.update([box], 0.02, 200)).toEqual({ started: { start: 200 } });
    expect(a.update([], 0, 400)).toEqual({});
    expect(a.update([{ x: 50, y: 50, width: 5, height: 5 }], 0.05, 600)).toEqual({});
    expect(a.update([], 0, 1400)).toEqual({});
    expect(a.update([], 0, 1600)).toEqual({ ended: { start: 200, end: 600, peak: 0.05, area: { x: 0, y: 0, width: 55, height: 55 } } });
    expect(a.active).toBe(false);
  });

  it('ignores a single flicker', () => {
    const a = new MotionActivity(2, 1000);
    expect(a.update([box], 0.01, 0)).toEqual({});
    expect(a.update([], 0, 200)).toEqual({});
    expect(a.update([box], 0.01, 400)).toEqual({});
    expect(a.active).toBe(false);
  });
});
