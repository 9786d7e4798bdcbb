import { describe, expect, it } from 'vitest';
import { COCO_LABELS, DEFAULT_CLASSES } from '../../src/vocabulary/labels.js';
import { decodeCenternet, decodeNanodet, decodeYolov8, decodeYolox } from '../../src/detect/decoders.js';
import { nms, type Detection } from '../../src/detect/nms.js';
import { iou, type Box } from '../../src/image/geometry.js';

function expectBox(actual: Box, expected: Box, digits = 4): void {
  for (let i = 0; i < 4; i++) expect(actual[i]).toBeCloseTo(expected[i]!, digits);
}

function det(classId: number, score: number, box: Box): Detection {
  return { classId, score, box };
}

/** Sort by class then top-left corner so assertions don't depend on a decoder's emit order. */
function ordered(dets: Detection[]): Detection[] {
  return dets.slice().sort((a, b) => a.classId - b.classId || a.box[1] - b.box[1] || a.box[0] - b.box[0]);
}

describe('COCO labels', () => {
  it('lists the 80 classes in contiguous COCO order', () => {
    expect(COCO_LABELS).toHaveLength(80);
    expect(new Set(COCO_LABELS).size).toBe(80);
    expect(COCO_LABELS[0]).toBe('person');
    expect(COCO_LABELS[3]).toBe('motorcycle');
    expect(COCO_LABELS[9]).toBe('traffic light');
    expect(COCO_LABELS[56]).toBe('chair');
    expect(COCO_LABELS[62]).toBe('tv');
    expect(COCO_LABELS[79]).toBe('toothbrush');
  });

  it('default classes resolve to the expected COCO ids', () => {
    expect(DEFAULT_CLASSES.map((c) => COCO_LABELS.indexOf(c))).toEqual([0, 1, 2, 3, 5, 7]);
  });
});

describe('iou', () => {
  it('computes overlap ratios', () => {
    expect(iou([0, 0, 10, 10], [0, 0, 10, 10])).toBe(1);
    // 5x10 intersection, union 100 + 100 - 50.
    expect(iou([0, 0, 10, 10], [5, 0, 15, 10])).toBeCloseTo(50 / 150, 12);
    // Containment: small 2x2 inside 4x4.
    expect(iou([0, 0, 4, 4], [1, 1, 3, 3])).toBeCloseTo(4 / 16, 12);
  });

  it('gives 0 for disjoint, edge-touching and zero-area boxes, never NaN', () => {
    expect(iou([0, 0, 1, 1], [2, 2, 3, 3])).toBe(0);
    expect(iou([0, 0, 1, 1], [1, 0, 2, 1])).toBe(0);
    // Apart on one axis only: a naive product of two signed overlaps would go negative.
    expect(iou([0, 0, 1, 1], [2, 0, 3, 1])).toBe(0);
    expect(iou([0, 0, 1, 1], [0, 3, 1, 4])).toBe(0);
    expect(iou([0, 0, 1, 1], [3, 3, 4, 4])).toBe(0);
    expect(iou([5, 5, 5, 5], [5, 5, 5, 5])).toBe(0);
    expect(iou([2, 2, 2, 8], [0, 0, 10, 10])).toBe(0);
    expect(iou([0, 0, 0, 0], [0, 0, 0, 0])).toBe(0);
  });
});

describe('nms', () => {
  it('handles empty input and a single box', () => {
    expect(nms([], 0.5, 10)).toEqual([]);
    const one = det(2, 0.7, [1, 2, 3, 4]);
    expect(nms([one], 0.5, 10)).toEqual([one]);
  });

  it('keeps one of identical boxes (the higher score)', () => {
    const lo = det(0, 0.6, [0, 0, 10, 10]);
    const hi = det(0, 0.9, [0, 0, 10, 10]);
    expect(nms([lo, hi], 0.5, 10)).toEqual([hi]);
  });

  it('suppresses only when IoU is strictly greater than the threshold', () => {
    // Intersection 2x1 = 2, union 3 + 3 - 2 = 4: IoU exactly 0.5.
    const a = det(0, 0.9, [0, 0, 3, 1]);
    const b = det(0, 0.8, [1, 0, 4, 1]);
    expect(iou(a.box, b.box)).toBe(0.5);
    expect(nms([a, b], 0.5, 10)).toEqual([a, b]);
    expect(nms([a, b], 0.49, 10)).toEqual([a]);
  });

  it('is class-agnostic: overlapping boxes of different classes suppress each other', () => {
    const car = det(2, 0.8, [0, 0, 100, 50]);
    const truck = det(7, 0.6, [2, 1, 101, 50]);
    expect(nms([truck, car], 0.5, 10)).toEqual([car]);
  });

  it('returns by descending score and stops at maxDetections', () => {
    const dets = [0.3, 0.9, 0.5, 0.7, 0.1].map((s, i) => det(0, s, [i * 10, 0, i * 10 + 5, 5]));
    expect(nms(dets, 0.5, 3).map((d) => d.score)).toEqual([0.9, 0.7, 0.5]);
    expect(nms(dets, 0.5, 10).map((d) => d.score)).toEqual([0.9, 0.7, 0.5, 0.3, 0.1]);
    expect(nms(dets, 0.5, 0)).toEqual([]);
  });

  it('does not count suppressed boxes against the cap', () => {
    const a = det(0, 0.9, [0, 0, 10, 10]);
    const dup = det(0, 0.8, [0, 0, 10, 10]);
    const c = det(0, 0.7, [20, 0, 30, 10]);
    expect(nms([a, dup, c], 0.5, 2)).toEqual([a, c]);
  });

  it('does not mutate the input array', () => {
    const dets = [det(0, 0.2, [0, 0, 1, 1]), det(1, 0.9, [0, 0, 1, 1]), det(2, 0.5, [5, 5, 6, 6])];
    const before = structuredClone(dets);
    const order = dets.slice();
    const kept = nms(dets, 0.5, 10);
    expect(kept).not.toBe(dets);
    expect(dets).toEqual(before);
    dets.forEach((d, i) => expect(d).toBe(order[i]));
  });

  it('keeps zero-area boxes (IoU 0 with everything)', () => {
    const big = det(0, 0.9, [0, 0, 10, 10]);
    const point = det(0, 0.8, [5, 5, 5, 5]);
    const point2 = det(0, 0.7, [5, 5, 5, 5]);
    expect(nms([point2, big, point], 0.5, 10)).toEqual([big, point, point2]);
  });

  it('keeps the earlier detection when scores are equal', () => {
    const first = det(3, 0.5, [0, 0, 10, 10]);
    const second = det(4, 0.5, [0, 0, 10, 10]);
    expect(nms([first, second], 0.5, 10)).toEqual([first]);
    expect(nms([second, first], 0.5, 10)).toEqual([second]);
    // Non-overlapping equal scores keep input order after the higher one.
    const x = det(0, 0.5, [0, 0, 1, 1]);
    const y = det(0, 0.9, [10, 0, 11, 1]);
    const z = det(0, 0.5, [20, 0, 21, 1]);
    expect(nms([x, y, z], 0.5, 10)).toEqual([y, x, z]);
  });
});

/** Build NanoDet level tensors: cls all zero, reg logits all zero (uniform) unless set. */
function nanodetLevel(stride: number, inputSize: number, numClasses: number, bins: number) {
  const g = inputSize / stride;
  const n = g * g;
  return { stride, cls: new Float32Array(n * numClasses), reg: new Float32Array(n * 4 * bins) };
}

function setSide(reg: Float32Array, cell: number, side: number, bins: number, logits: number[]): void {
  reg.set(logits, cell * 4 * bins + side * bins);
}

describe('decodeNanodet', () => {
  const C = 3;
  const BINS = 8; // R = 7

  it('lays cells out row by row over an input that is not square', () => {
    // 64x32 at stride 8: 8 cells a row, 4 rows; cell 13 is column 5, row 1 -> centre (44, 12).
    const lvl = { stride: 8, cls: new Float32Array(32 * C), reg: new Float32Array(32 * 4 * BINS) };
    lvl.cls[13 * C + 1] = 0.8;
    const [d] = decodeNanodet([lvl], { width: 64, height: 32 }, C, 0.5);
    // Zero logits: uniform bins, 3.5 x 8 = 28 on every side.
    expectBox(d!.box, [44 - 28, 12 - 28, 44 + 28, 12 + 28]);
    expect(() => decodeNanodet([lvl], { width: 64, height: 64 }, C, 0.5)).toThrow(/nanodet cls \(stride 8\)/);
  });

  it('decodes a box from softmax expectations at a non-trivial cell', () => {
    const lvl = nanodetLevel(8, 32, C, BINS); // g = 4
    const cell = 6; // x = 2, y = 1 -> centre (20, 12)
    lvl.cls[cell * C + 2] = 0.9;
    lvl.cls[cell * C + 0] = 0.3;
    // left: all mass on bin 3 -> 3 * 8 = 24
    setSide(lvl.reg, cell, 0, BINS, [0, 0, 0, 60, 0, 0, 0, 0]);
    // top: weights 1:2:3:4 on bins 0..3 -> (0*1 + 1*2 + 2*3 + 3*4) / 10 = 2 -> 16
    setSide(lvl.reg, cell, 1, BINS, [0, Math.log(2), Math.log(3), Math.log(4), -80, -80, -80, -80]);
    // right: uniform over bins 0..7 -> mean 3.5 -> 28 (reg left at zeros)
    // bottom: equal mass on bins 1 and 5 -> 3 -> 24
    setSide(lvl.reg, cell, 3, BINS, [-80, 5, -80, -80, -80, 5, -80, -80]);

    const out = decodeNanodet([lvl], 32, C, 0.5);
    expect(out).toHaveLength(1);
    const d = out[0]!;
    expect(d.classId).toBe(2);
    expect(d.score).toBeCloseTo(0.9, 6);
    expectBox(d.box, [20 - 24, 12 - 16, 20 + 28, 12 + 24]);
  });

  it('uses each level\'s own stride and grid, in level order', () => {
    const l8 = nanodetLevel(8, 32, C, BINS);
    const l16 = nanodetLevel(16, 32, C, BINS); // g = 2
    l8.cls[1 * C + 0] = 0.6; // x = 1, y = 0 -> centre (12, 4)
    l16.cls[3 * C + 1] = 0.7; // x = 1, y = 1 -> centre (24, 24)
    // All sides on bin 1 for the stride-16 cell: 16 px each way.
    for (let side = 0; side < 4; side++) setSide(l16.reg, 3, side, BINS, [0, 50, 0, 0, 0, 0, 0, 0]);
    const out = decodeNanodet([l8, l16], 32, C, 0.5);
    expect(out.map((d) => d.classId)).toEqual([0, 1]);
    expectBox(out[0]!.box, [12 - 28, 4 - 28, 12 + 28, 4 + 28]); // uniform: 3.5 * 8
    expectBox(out[1]!.box, [8, 8, 40, 40]);
  });

  it('supports a different bin count derived from reg length', () => {
    const lvl = nanodetLevel(16, 32, 1, 4); // R + 1 = 4
    lvl.cls[0] = 0.8; // cell (0, 0) -> centre (8, 8)
    // uniform -> mean of 0..3 = 1.5 -> 24 px each side
    const [d] = decodeNanodet([lvl], 32, 1, 0.5);
    expectBox(d!.box, [8 - 24, 8 - 24, 8 + 24, 8 + 24]);
  });

  it('applies the threshold inclusively to the best class score', () => {
    const lvl = nanodetLevel(8, 32, C, BINS);
    lvl.cls[0 * C + 1] = 0.5; // exactly at threshold (exact in float32)
    lvl.cls[5 * C + 2] = 0.4999;
    const out = decodeNanodet([lvl], 32, C, 0.5);
    expect(out).toHaveLength(1);
    expect(out[0]!.classId).toBe(1);
    expect(out[0]!.score).toBe(0.5);
  });

  it('filters classes before picking the best one', () => {
    const lvl = nanodetLevel(8, 32, C, BINS);
    lvl.cls[4 * C + 0] = 0.95;
    lvl.cls[4 * C + 2] = 0.6;
    expect(decodeNanodet([lvl], 32, C, 0.5).map((d) => d.classId)).toEqual([0]);
    const filtered = decodeNanodet([lvl], 32, C, 0.5, (c) => c !== 0);
    expect(filtered).toHaveLength(1);
    expect(filtered[0]!.classId).toBe(2);
    expect(filtered[0]!.score).toBeCloseTo(0.6, 6);
    expect(decodeNanodet([lvl], 32, C, 0.5, (c) => c === 1)).toEqual([]);
  });

  it('breaks ties between classes towards the lower class id', () => {
    const lvl = nanodetLevel(8, 32, C, BINS);
    lvl.cls[2 * C + 1] = 0.75;
    lvl.cls[2 * C + 2] = 0.75;
    expect(decodeNanodet([lvl], 32, C, 0.5).map((d) => d.classId)).toEqual([1]);
  });

  it('rejects tensors whose size does not match the grid', () => {
    const lvl = nanodetLevel(8, 32, C, BINS);
    expect(() => decodeNanodet([{ ...lvl, cls: new Float32Array(10) }], 32, C, 0.5)).toThrow(/cls/);
    expect(() => decodeNanodet([{ ...lvl, reg: new Float32Array(16 * 4 * BINS + 1) }], 32, C, 0.5)).toThrow(/reg/);
  });
});

describe('decodeCenternet', () => {
  const W = 5;
  const H = 4;
  const C = 2;
  const STRIDE = 4;

  function maps() {
    return { heat: new Float32Array(W * H * C), wh: new Float32Array(W * H * 4) };
  }
  const at = (x: number, y: number, c: number) => (y * W + x) * C + c;

  it('decodes an interior peak into a box around the cell origin', () => {
    const { heat, wh } = maps();
    heat[at(3, 2, 1)] = 0.8;
    for (const [dx, dy] of [[-1, -1], [0, -1], [1, -1], [-1, 0], [1, 0], [-1, 1], [0, 1], [1, 1]] as const) {
      heat[at(3 + dx, 2 + dy, 1)] = 0.3;
    }
    wh.set([2, 3, 4, 5], (2 * W + 3) * 4);
    const out = decodeCenternet(heat, wh, W, H, C, STRIDE, 0.5);
    expect(out).toHaveLength(1);
    expect(out[0]!.classId).toBe(1);
    expect(out[0]!.score).toBeCloseTo(0.8, 6);
    // cell (3, 2) * 4 = (12, 8)
    expectBox(out[0]!.box, [10, 5, 16, 13]);
  });

  it('treats both cells of an equal plateau as peaks, but not a lower neighbour', () => {
    const { heat, wh } = maps();
    heat[at(1, 0, 0)] = 0.6; // top border
    heat[at(2, 0, 0)] = 0.6;
    heat[at(1, 1, 0)] = 0.55; // above threshold but next to 0.6
    wh.set([1, 1, 1, 1], (0 * W + 1) * 4);
    wh.set([1, 1, 2, 2], (0 * W + 2) * 4);
    const out = ordered(decodeCenternet(heat, wh, W, H, C, STRIDE, 0.5));
    expect(out).toHaveLength(2);
    expectBox(out[0]!.box, [4 - 1, -1, 4 + 1, 1]);
    expectBox(out[1]!.box, [8 - 1, -1, 8 + 2, 2]);
  });

  it('finds a peak in a corner (out-of-map neighbours ignored)', () => {
    const { heat, wh } = maps();
    heat[at(4, 3, 0)] = 0.7;
    heat[at(3, 3, 0)] = 0.2;
    heat[at(4, 2, 0)] = 0.69;
    wh.set([3, 3, 1, 1], (3 * W + 4) * 4);
    const out = decodeCenternet(heat, wh, W, H, C, STRIDE, 0.5);
    expect(out).toHaveLength(1);
    expectBox(out[0]!.box, [16 - 3, 12 - 3, 16 + 1, 12 + 1]);
  });

  it('does not wrap neighbours across row ends', () => {
    const { heat, wh } = maps();
    heat[at(4, 0, 0)] = 0.6; // right border; (0, 1) follows it in memory
    heat[at(0, 1, 0)] = 0.9;
    heat[at(0, 3, 0)] = 0.7; // left border; (4, 2) precedes it in memory
    heat[at(4, 2, 0)] = 0.8;
    const out = decodeCenternet(heat, wh, W, H, C, STRIDE, 0.5);
    expect(out.map((d) => d.score).sort()).toEqual([0.6, 0.7, 0.8, 0.9].map(Math.fround));
  });

  it('compares neighbours of the same class only, and emits peaks of every class', () => {
    const { heat, wh } = maps();
    heat[at(2, 1, 0)] = 0.6;
    heat[at(2, 2, 1)] = 0.9; // adjacent, higher, but another class
    heat[at(2, 1, 1)] = 0.1;
    const out = ordered(decodeCenternet(heat, wh, W, H, C, STRIDE, 0.5));
    expect(out.map((d) => d.classId)).toEqual([0, 1]);
    expectBox(out[0]!.box, [8, 4, 8, 4]);
    expectBox(out[1]!.box, [8, 8, 8, 8]);
  });

  it('applies threshold (inclusive) and class filter', () => {
    const { heat, wh } = maps();
    heat[at(0, 0, 0)] = 0.5;
    heat[at(4, 0, 0)] = 0.4;
    heat[at(2, 3, 1)] = 0.75;
    expect(ordered(decodeCenternet(heat, wh, W, H, C, STRIDE, 0.5)).map((d) => [d.classId, d.score])).toEqual([
      [0, 0.5],
      [1, 0.75],
    ]);
    const onlyOne = decodeCenternet(heat, wh, W, H, C, STRIDE, 0.5, (c) => c === 1);
    expect(onlyOne.map((d) => d.classId)).toEqual([1]);
    expect(decodeCenternet(heat, wh, W, H, C, STRIDE, 0.3).map((d) => d.score)).toContain(Math.fround(0.4));
  });

  it('rejects mismatched tensor sizes', () => {
    const { heat, wh } = maps();
    expect(() => decodeCenternet(heat, wh, W + 1, H, C, STRIDE, 0.5)).toThrow(/heatmap/);
    expect(() => decodeCenternet(heat, new Float32Array(3), W, H, C, STRIDE, 0.5)).toThrow(/wh/);
  });
});

describe('decodeYolov8', () => {
  const C = 3;
  // Logical table: one row per anchor [cx, cy, w, h, s0, s1, s2].
  const anchors: number[][] = [
    [10, 10, 4, 4, 0.1, 0.2, 0.05],
    [50, 20, 10, 6, 0.3, 0.1, 0.25],
    [0, 0, 2, 2, 0.0, 0.0, 0.0],
    [100, 60, 40, 20, 0.1, 0.7, 0.2],
    [30, 90, 8, 12, 0.55, 0.2, 0.6],
  ];
  const N = anchors.length;

  function channelMajor(rows: number[][]): Float32Array {
    const ch = rows[0]!.length;
    const out = new Float32Array(ch * rows.length);
    rows.forEach((r, i) => r.forEach((v, c) => (out[c * rows.length + i] = v)));
    return out;
  }
  const anchorMajor = (rows: number[][]) => Float32Array.from(rows.flat());

  it('decodes the default [1, 4+C, N] layout', () => {
    const out = decodeYolov8(channelMajor(anchors), [1, 4 + C, N], C, 0.5);
    expect(out).toHaveLength(2);
    expect(out[0]!.classId).toBe(1);
    expect(out[0]!.score).toBeCloseTo(0.7, 6);
    expectBox(out[0]!.box, [80, 50, 120, 70]);
    expect(out[1]!.classId).toBe(2);
    expect(out[1]!.score).toBeCloseTo(0.6, 6);
    expectBox(out[1]!.box, [26, 84, 34, 96]);
  });

  it('decodes the transposed [1, N, 4+C] layout to the same result', () => {
    const a = decodeYolov8(channelMajor(anchors), [1, 4 + C, N], C, 0.25);
    const b = decodeYolov8(anchorMajor(anchors), [1, N, 4 + C], C, 0.25);
    expect(a).toHaveLength(3);
    expect(b).toEqual(a);
  });

  it('assumes [1, 4+C, N] when both dims equal 4+C', () => {
    const rows = Array.from({ length: 4 + C }, () => [0, 0, 0, 0, 0, 0, 0]);
    rows[5] = [20, 30, 6, 8, 0, 0, 0.9];
    // Read anchor-major, this buffer would instead give anchor 0 a class-1 score of 20.
    const out = decodeYolov8(channelMajor(rows), [1, 4 + C, 4 + C], C, 0.5);
    expect(out).toHaveLength(1);
    expect(out[0]!.classId).toBe(2);
    expect(out[0]!.score).toBeCloseTo(0.9, 6);
    expectBox(out[0]!.box, [17, 26, 23, 34]);
  });

  it('picks the best allowed class and applies the threshold inclusively', () => {
    const data = channelMajor(anchors);
    expect(decodeYolov8(data, [1, 4 + C, N], C, 0.25).map((d) => d.classId)).toEqual([0, 1, 2]);
    // Without class 1, anchor 3 falls back to class 2 at 0.2: below 0.25, above 0.15.
    const noCls1 = decodeYolov8(data, [1, 4 + C, N], C, 0.25, (c) => c !== 1);
    expect(noCls1.map((d) => d.classId)).toEqual([0, 2]);
    expectBox(noCls1[0]!.box, [45, 17, 55, 23]);
    const lower = decodeYolov8(data, [1, 4 + C, N], C, 0.15, (c) => c !== 1);
    expect(lower.map((d) => d.classId)).toEqual([0, 2, 2]);
    expect(lower[1]!.score).toBeCloseTo(0.2, 6);
    expectBox(lower[1]!.box, [80, 50, 120, 70]);
    const exact = channelMajor([[8, 8, 2, 2, 0.5, 0.25, 0.125]]);
    expect(decodeYolov8(exact, [1, 4 + C, 1], C, 0.5)).toHaveLength(1);
    expect(decodeYolov8(exact, [1, 4 + C, 1], C, 0.5000001)).toHaveLength(0);
  });

  it('breaks ties between classes towards the lower class id in both layouts', () => {
    const tie = [[8, 8, 2, 2, 0.25, 0.75, 0.75]];
    expect(decodeYolov8(channelMajor(tie), [1, 4 + C, 1], C, 0.5)[0]!.classId).toBe(1);
    expect(decodeYolov8(anchorMajor(tie), [1, 1, 4 + C], C, 0.5)[0]!.classId).toBe(1);
  });

  it('rejects shapes where no dim matches 4+C or lengths disagree', () => {
    expect(() => decodeYolov8(new Float32Array(12), [1, 3, 4], C, 0.5)).toThrow(/4 \+ 3/);
    expect(() => decodeYolov8(new Float32Array(10), [1, 4 + C, N], C, 0.5)).toThrow(/yolov8/);
  });
});

describe('decodeYolox', () => {
  const C = 2;
  const CH = 5 + C;
  // 64 wide x 32 high: stride 8 -> 4 x 8 = 32, stride 16 -> 2 x 4 = 8, stride 32 -> 1 x 2 = 2 anchors.
  const SIZE = { width: 64, height: 32 };
  const N = 42;

  function rows(n: number, set: Record<number, number[]>): Float32Array {
    const out = new Float32Array(n * CH);
    for (const [i, r] of Object.entries(set)) out.set(r, Number(i) * CH);
    return out;
  }

  it('decodes raw grid outputs across levels with non-square grids', () => {
    const data = rows(N, {
      // stride 16, index 32 + 1*4 + 3 -> gx 3, gy 1
      39: [0.5, 0.25, Math.log(2), 0, 0.8, 0.5, 0.25],
      // stride 8, index 13 -> gx 5, gy 1 (row length 8, not 4)
      13: [0, 0, 0, 0, 0.9, 0.1, 1.0],
      // stride 32, index 41 -> gx 1, gy 0
      41: [0.5, 0.5, 0, Math.log(0.5), 1.0, 0.6, 0.2],
    });
    const out = decodeYolox(data, [1, N, CH], SIZE, C, 0.3);
    expect(out.map((d) => d.classId)).toEqual([1, 0, 0]);
    expect(out.map((d) => d.score)).toEqual([
      expect.closeTo(0.9, 6),
      expect.closeTo(0.4, 6),
      expect.closeTo(0.6, 6),
    ]);
    // cx = 5 * 8 = 40, cy = 8, w = h = 8
    expectBox(out[0]!.box, [36, 4, 44, 12]);
    // cx = 3.5 * 16 = 56, cy = 1.25 * 16 = 20, w = 2 * 16 = 32, h = 16
    expectBox(out[1]!.box, [40, 12, 72, 28]);
    // cx = 1.5 * 32 = 48, cy = 16, w = 32, h = 16
    expectBox(out[2]!.box, [32, 8, 64, 24]);
  });

  it('honours custom strides', () => {
    // strides [16, 32] on 64x32: 8 + 2 = 10 anchors; index 9 -> stride 32, gx 1
    const data = rows(10, { 9: [0, 0, 0, 0, 1, 1, 0] });
    const [d] = decodeYolox(data, [1, 10, CH], SIZE, C, 0.5, { strides: [16, 32] });
    expectBox(d!.box, [16, -16, 48, 16]);
  });

  it('uses x, y, w, h as pixels when decoded', () => {
    const data = rows(3, { 2: [100, 50, 20, 10, 0.9, 0.2, 0.8] });
    const out = decodeYolox(data, [1, 3, CH], SIZE, C, 0.5, { decoded: true });
    expect(out).toHaveLength(1);
    expect(out[0]!.classId).toBe(1);
    expect(out[0]!.score).toBeCloseTo(0.72, 6);
    expectBox(out[0]!.box, [90, 45, 110, 55]);
  });

  it('scores by objectness x class and filters classes', () => {
    const data = rows(2, {
      0: [10, 10, 2, 2, 0.5, 0.5, 0.0], // 0.25 < 0.3
      1: [20, 20, 2, 2, 0.9, 0.4, 0.35], // 0.36 (class 0) or 0.315 (class 1)
    });
    const opts = { decoded: true };
    const out = decodeYolox(data, [1, 2, CH], SIZE, C, 0.3, opts);
    expect(out).toHaveLength(1);
    expect(out[0]!.classId).toBe(0);
    expect(out[0]!.score).toBeCloseTo(0.36, 6);
    const cls1 = decodeYolox(data, [1, 2, CH], SIZE, C, 0.3, opts, (c) => c === 1);
    expect(cls1.map((d) => d.classId)).toEqual([1]);
    expect(cls1[0]!.score).toBeCloseTo(0.315, 6);
    expect(decodeYolox(data, [1, 2, CH], SIZE, C, 0.32, opts, (c) => c === 1)).toEqual([]);
  });

  it('throws a clear error when the anchor count does not match the grid', () => {
    const data = new Float32Array(40 * CH);
    expect(() => decodeYolox(data, [1, 40, CH], SIZE, C, 0.5)).toThrow(/40 anchors.*42 grid cells/);
    expect(() => decodeYolox(data, [1, 40, CH + 1], SIZE, C, 0.5)).toThrow(/5 \+ 2/);
    // The same tensor is fine once the caller says it is already decoded.
    expect(decodeYolox(data, [1, 40, CH], SIZE, C, 0.5, { decoded: true })).toEqual([]);
  });
});

describe('nms groups', () => {
  it('keeps a rider and their bike apart when people and vehicles are different groups', () => {
    const rider = det(0, 0.8, [10, 0, 30, 40]);
    const bike = det(3, 0.5, [10, 10, 30, 45]);
    expect(nms([rider, bike], 0.5, 10)).toEqual([rider]);
    expect(nms([rider, bike], 0.5, 10, (c) => (c === 0 ? 1 : 0))).toEqual([rider, bike]);
  });
});
