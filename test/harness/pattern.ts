// A frame pattern that survives H.264 and scaling, so a test can tell which source frame it got and
// that its bytes sit where yuv420p says they should: a 16-bit frame number as black/white blocks across
// the top of the Y plane, a red square and a blue square whose colour lives only in the U and V planes.

export const BITS = 16;
// BT.601 limited-range YUV of pure red and pure blue.
export const RED = { y: 81, u: 90, v: 240 };
export const BLUE = { y: 41, u: 240, v: 110 };
const GREY = 128;

interface Rect { x: number; y: number; w: number; h: number }

/** Regions as fractions of the frame, so the same pattern can be checked after scaling. */
const bitRect = (i: number): Rect => ({ x: i / BITS, y: 0.05, w: 1 / BITS, h: 0.12 });
const RED_RECT: Rect = { x: 0.7, y: 0.5, w: 0.2, h: 0.3 };
const BLUE_RECT: Rect = { x: 0.1, y: 0.5, w: 0.2, h: 0.3 };

function fill(frame: Buffer, width: number, height: number, r: Rect, y: number, u?: number, v?: number): void {
  const x0 = Math.round(r.x * width), x1 = Math.round((r.x + r.w) * width);
  const y0 = Math.round(r.y * height), y1 = Math.round((r.y + r.h) * height);
  for (let row = y0; row < y1; row++) frame.fill(y, row * width + x0, row * width + x1);
  if (u === undefined || v === undefined) return;
  const cw = width / 2, uBase = width * height, vBase = uBase + cw * (height / 2);
  for (let row = y0 >> 1; row < y1 >> 1; row++) {
    frame.fill(u, uBase + row * cw + (x0 >> 1), uBase + row * cw + (x1 >> 1));
    frame.fill(v, vBase + row * cw + (x0 >> 1), vBase + row * cw + (x1 >> 1));
  }
}

export function drawPatternFrame(frame: Buffer, width: number, height: number, n: number): void {
  frame.fill(GREY);
  for (let i = 0; i < BITS; i++) fill(frame, width, height, bitRect(i), (n >> (BITS - 1 - i)) & 1 ? 235 : 16);
  fill(frame, width, height, RED_RECT, RED.y, RED.u, RED.v);
  fill(frame, width, height, BLUE_RECT, BLUE.y, BLUE.u, BLUE.v);
}

/** Mean of the middle half of a rectangle in one plane. */
function mean(plane: Buffer, offset: number, stride: number, planeH: number, r: Rect): number {
  const x0 = Math.round((r.x + r.w / 4) * stride), x1 = Math.round((r.x + (3 * r.w) / 4) * stride);
  const y0 = Math.round((r.y + r.h / 4) * planeH), y1 = Math.round((r.y + (3 * r.h) / 4) * planeH);
  let sum = 0, n = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++, n++) sum += plane[offset + y * stride + x]!;
  return sum / n;
}

export interface PatternReading {
  frameNumber: number;
  red: { y: number; u: number; v: number };
  blue: { y: number; u: number; v: number };
}

export function readPatternFrame(data: Buffer, width: number, height: number): PatternReading {
  let n = 0;
  for (let i = 0; i < BITS; i++) n = (n << 1) | (mean(data, 0, width, height, bitRect(i)) > 128 ? 1 : 0);
  const cw = width / 2, ch = height / 2, u = width * height, v = u + cw * ch;
  const colour = (r: Rect) => ({
    y: mean(data, 0, width, height, r),
    u: mean(data, u, cw, ch, r),
    v: mean(data, v, cw, ch, r),
  });
  return { frameNumber: n, red: colour(RED_RECT), blue: colour(BLUE_RECT) };
}
