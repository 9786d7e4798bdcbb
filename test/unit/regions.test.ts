import { describe, expect, it } from 'vitest';
import { planRegions } from '../../src/detect/regions.js';

const opts = { minSide: 216, maxRegions: 3, margin: 0.25 };

describe('planRegions', () => {
  it('puts a square of at least minSide around a small moving box, inside the frame', () => {
    const [r, ...rest] = planRegions([{ x: 600, y: 10, width: 20, height: 40 }], 640, 360, opts);
    expect(rest).toEqual([]);
    expect(r).toEqual({ x: 424, y: 0, width: 216, height: 216 });
  });

  it('grows the square for a big box, with margin', () => {
    const [r] = planRegions([{ x: 100, y: 100, width: 100, height: 200 }], 640, 360, opts);
    expect(r!.width).toBe(300);
    expect(r!.height).toBe(300);
    expect(r!.x).toBeLessThanOrEqual(100);
    expect(r!.x + r!.width).toBeGreaterThanOrEqual(200);
  });

  it('merges overlapping regions and keeps distant ones apart', () => {
    const regions = planRegions([{ x: 10, y: 10, width: 20, height: 20 }, { x: 60, y: 40, width: 20, height: 20 }, { x: 560, y: 300, width: 20, height: 20 }], 1280, 720, opts);
    expect(regions).toHaveLength(2);
  });

  it('looks at the whole frame once when that is cheaper than many crops', () => {
    const boxes = [0, 1, 2, 3].map((i) => ({ x: i * 320 + 10, y: (i % 2) * 400, width: 10, height: 10 }));
    expect(planRegions(boxes, 1280, 720, opts)).toEqual([{ x: 0, y: 0, width: 1280, height: 720 }]);
    expect(planRegions([], 640, 360, opts)).toEqual([]);
  });
});

describe('planRegions for a model input that is not square', () => {
  const wide = { ...opts, aspect: 640 / 384 };

  it('gives a small box a region of the model input\'s shape, inside the frame', () => {
    const [r] = planRegions([{ x: 600, y: 10, width: 20, height: 40 }], 640, 360, wide);
    expect(r).toEqual({ x: 280, y: 0, width: 360, height: 216 });
  });

  it('keeps the shape for a big box, shrunk to fit the frame', () => {
    const [r] = planRegions([{ x: 100, y: 100, width: 100, height: 200 }], 640, 360, wide);
    expect(r!.width / r!.height).toBeCloseTo(640 / 384, 1);
    expect(r!.height).toBeLessThanOrEqual(360);
    expect(r!.y).toBeLessThanOrEqual(100);
    expect(r!.y + r!.height).toBeGreaterThanOrEqual(300);
  });
});
