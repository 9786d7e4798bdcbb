// Where things are in a picture. Two shapes on purpose: a Box is an object's corners [x1, y1, x2, y2] (what
// detectors, the tracker and events use), a Rect a region to process { x, y, width, height } (what motion
// finds and crops are cut to). Both in pixels of whatever image the caller is talking about.

export type Box = [number, number, number, number];

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Points [x, y] as fractions of the frame (0..1), as the config writes zones and masks. */
export type Polygon = Array<[number, number]>;

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

/** The area two boxes share (0 when they do not meet). */
export function intersectionArea(a: Box, b: Box): number {
  return Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0])) * Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
}

export function boxToRect([x1, y1, x2, y2]: Box): Rect {
  return { x: x1, y: y1, width: x2 - x1, height: y2 - y1 };
}

export function rectToBox(r: Rect): Box {
  return [r.x, r.y, r.x + r.width, r.y + r.height];
}

/** Even-odd rule; the polygon and the point in the same units. */
export function pointInPolygon(px: number, py: number, poly: Polygon): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i]!;
    const [xj, yj] = poly[j]!;
    if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
