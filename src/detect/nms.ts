// Detection record shared by all decoders, plus IoU and greedy non-maximum suppression used to
// collapse the many overlapping candidates a detector emits into one box per object.

export type Box = [number, number, number, number];

export interface Detection {
  classId: number;
  score: number;
  /** [x1, y1, x2, y2] in pixels of whatever space the caller uses. */
  box: Box;
}

/** Intersection over union. Degenerate (zero or negative area) boxes give 0 rather than NaN. */
export function iou(a: Box, b: Box): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  if (!(iw > 0)) return 0;
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (!(ih > 0)) return 0;
  const inter = iw * ih;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  // A positive intersection implies a positive union for well-formed boxes; the guard only
  // protects against inverted boxes producing nonsense.
  return union > 0 ? inter / union : 0;
}

/**
 * Class-agnostic greedy NMS: a car box and a truck box on the same vehicle should collapse to
 * one, which per-class NMS would not do. Ties in score keep input order (Array#sort is stable).
 * Returns the kept Detection objects themselves (not copies); the input array is not reordered.
 */
export function nms<T extends Detection>(dets: T[], iouThreshold: number, maxDetections: number): T[] {
  const kept: T[] = [];
  if (maxDetections <= 0 || dets.length === 0) return kept;
  const sorted = dets.slice().sort((p, q) => q.score - p.score);
  for (const d of sorted) {
    let suppressed = false;
    for (const k of kept) {
      if (iou(d.box, k.box) > iouThreshold) {
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
