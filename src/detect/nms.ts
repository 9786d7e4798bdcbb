// Detection record shared by all decoders, plus IoU and greedy non-maximum suppression used to
// collapse the many overlapping candidates a detector emits into one box per object.

import { iou, type Box } from '../image/geometry.js';

export interface Detection {
  classId: number;
  score: number;
  /** [x1, y1, x2, y2] in pixels of whatever space the caller uses. */
  box: Box;
}

/**
 * Greedy NMS across classes of one group: a car box and a truck box on the same vehicle should collapse
 * to one, which per-class NMS would not do. `groupOf` keeps some classes apart (a rider's box and their
 * bike's overlap heavily, and must not suppress each other); by default every class is one group.
 * Ties in score keep input order (Array#sort is stable). Returns the kept Detection objects themselves
 * (not copies); the input array is not reordered.
 */
export function nms<T extends Detection>(dets: T[], iouThreshold: number, maxDetections: number, groupOf: (classId: number) => number = () => 0): T[] {
  const kept: T[] = [];
  if (maxDetections <= 0 || dets.length === 0) return kept;
  const sorted = dets.slice().sort((p, q) => q.score - p.score);
  for (const d of sorted) {
    let suppressed = false;
    for (const k of kept) {
      if (iou(d.box, k.box) > iouThreshold && groupOf(k.classId) === groupOf(d.classId)) {
        suppressed = true;
        break;
      }
    }
    if (suppressed) continue;
    kept.push(d);
    if (kept.length >= maxDetections) break;
  }
  return kept;
}
