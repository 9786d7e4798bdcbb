// Finds where a camera's picture changed, cheaply, on the Y plane that yuv420p gives for free: downscale,
// running-average background, threshold, mask, dilate, connected boxes. Idle cameras then cost almost
// nothing, and the detector only looks where something moved.
import { pointInPolygon, type Polygon, type Rect } from '../image/geometry.js';

export interface MotionConfig {
  /** Grey-level difference from the background that counts as change (0-255). */
  threshold: number;
  /** Smallest moving area, as a fraction of the frame, that counts as motion. */
  min_area: number;
  /** Background learning rate per frame (0-1): higher forgets parked objects sooner. */
  alpha: number;
  /** Width of the grid motion runs on; the frame's aspect is kept. */
  width: number;
  /** A changed fraction above this is a lighting jump (lights, IR switch, exposure), not motion. */
  recalibrate_above: number;
}

export interface MotionResult {
  /** Boxes around moving areas, in frame pixels. */
  boxes: Rect[];
  /** Fraction of the frame that changed. */
  changed: number;
  /** True while the background is being relearnt after start or a lighting jump: no motion is reported. */
  calibrating: boolean;
}

/** A polygon in frame fractions (0..1), e.g. [[0, 0], [1, 0], [1, 0.2], [0, 0.2]] for the top fifth. */

const CALIBRATION_FRAMES = 3;

export class MotionDetector {
  readonly gridW: number;
  readonly gridH: number;
  private readonly scale: number;
  private background: Float32Array | undefined;
  private readonly current: Float32Array;
  private readonly changedMask: Uint8Array;
  private readonly dilated: Uint8Array;
  private readonly ignore: Uint8Array;
  private readonly labels: Int32Array;
  private calibrationLeft = CALIBRATION_FRAMES;
  private readonly rowSums: Uint32Array;
  private readonly cellX0: Int32Array;
  private readonly dilateRows: Uint8Array;

  constructor(
    readonly frameWidth: number,
    readonly frameHeight: number,
    private readonly config: MotionConfig,
    masks: Polygon[] = [],
  ) {
    this.gridW = Math.min(config.width, frameWidth);
    this.scale = frameWidth / this.gridW;
    this.gridH = Math.max(1, Math.round(frameHeight / this.scale));
    const n = this.gridW * this.gridH;
    this.current = new Float32Array(n);
    this.changedMask = new Uint8Array(n);
    this.dilated = new Uint8Array(n);
    this.labels = new Int32Array(n);
    this.ignore = rasterise(masks, this.gridW, this.gridH);
    this.rowSums = new Uint32Array(frameWidth);
    this.dilateRows = new Uint8Array(n);
    this.cellX0 = new Int32Array(this.gridW + 1);
    for (let gx = 0; gx <= this.gridW; gx++) this.cellX0[gx] = Math.min(frameWidth, Math.floor(gx * this.scale));
  }

  /** Looks at one frame's Y plane (the first width × height bytes of a yuv420p frame). */
  detect(luma: Uint8Array): MotionResult {
    this.downscale(luma);
    if (!this.background) {
      this.background = Float32Array.from(this.current);
      return { boxes: [], changed: 0, calibrating: true };
    }
    const { threshold, alpha } = this.config;
    const bg = this.background;
    const cur = this.current;
    const n = cur.length;
    // Camera auto-exposure brightens or darkens the whole picture when something bright or dark enters
    // it; compare against the background scaled to the frame's overall brightness, not the raw levels.
    let sumCur = 0;
    let sumBg = 0;
    for (let i = 0; i < n; i++) {
      if (this.ignore[i]) continue;
      sumCur += cur[i]!;
      sumBg += bg[i]!;
    }
    const gain = sumBg > 0 ? sumCur / sumBg : 1;
    let changedCount = 0;
    let considered = 0;
    for (let i = 0; i < n; i++) {
      if (this.ignore[i]) {
        this.changedMask[i] = 0;
        continue;
      }
      considered++;
      const moved = Math.abs(cur[i]! - gain * bg[i]!) > threshold ? 1 : 0;
      this.changedMask[i] = moved;
      changedCount += moved;
    }
    const changed = considered ? changedCount / considered : 0;
    if (changed > this.config.recalibrate_above) {
      // Everything changed at once: the light did, not the scene. Start the background again.
      bg.set(cur);
      this.calibrationLeft = CALIBRATION_FRAMES;
      return { boxes: [], changed, calibrating: true };
    }
    for (let i = 0; i < n; i++) bg[i] = bg[i]! + alpha * (cur[i]! - bg[i]!);
    if (this.calibrationLeft > 0) {
      this.calibrationLeft--;
      return { boxes: [], changed, calibrating: true };
    }
    this.dilate();
    return { boxes: this.components(), changed, calibrating: false };
  }

  /**
   * Average the Y plane onto the grid. Each cell averages every `step`-th pixel of every `step`-th row
   * (step = half the cell size): a quarter of the reads of a full box average, and as steady for motion.
   */
  private downscale(luma: Uint8Array): void {
    const { gridW, gridH, scale, frameWidth, frameHeight } = this;
    const cur = this.current;
    const rowSums = this.rowSums;
    const cellX0 = this.cellX0;
    const step = Math.max(1, Math.floor(scale / 2));
    for (let gy = 0; gy < gridH; gy++) {
      const y0 = Math.floor(gy * scale);
      const y1 = Math.min(frameHeight, Math.max(y0 + 1, Math.floor((gy + 1) * scale)));
      rowSums.fill(0);
      let rows = 0;
      for (let y = y0; y < y1; y += step, rows++) {
        const row = y * frameWidth;
        for (let x = 0; x < frameWidth; x += step) rowSums[x] = rowSums[x]! + luma[row + x]!;
      }
      for (let gx = 0; gx < gridW; gx++) {
        const x0 = cellX0[gx]!;
        const x1 = cellX0[gx + 1]!;
        let sum = 0;
        let n = 0;
        for (let x = x0; x < x1; x += step, n++) sum += rowSums[x]!;
        cur[gy * gridW + gx] = sum / (rows * n);
      }
    }
  }

  /** 3×3 dilation as two separable passes (rows, then columns), so a person's pixels join into one blob. */
  private dilate(): void {
    const { gridW: w, gridH: h } = this;
    const src = this.changedMask;
    const tmp = this.dilateRows;
    const dst = this.dilated;
    for (let y = 0; y < h; y++) {
      const r = y * w;
      for (let x = 0; x < w; x++) {
        tmp[r + x] = src[r + x]! | (x > 0 ? src[r + x - 1]! : 0) | (x < w - 1 ? src[r + x + 1]! : 0);
      }
    }
    for (let y = 0; y < h; y++) {
      const r = y * w;
      for (let x = 0; x < w; x++) {
        dst[r + x] = tmp[r + x]! | (y > 0 ? tmp[r - w + x]! : 0) | (y < h - 1 ? tmp[r + w + x]! : 0);
      }
    }
  }

  /** Connected components (4-neighbour flood fill) → boxes in frame pixels, small ones dropped. */
  private components(): Rect[] {
    const { gridW: w, gridH: h } = this;
    const mask = this.dilated;
    const labels = this.labels.fill(0);
    const minCells = Math.max(1, this.config.min_area * w * h);
    const boxes: Rect[] = [];
    const stack: number[] = [];
    let label = 0;
    for (let start = 0; start < mask.length; start++) {
      if (!mask[start] || labels[start]) continue;
      label++;
      let minX = w, minY = h, maxX = 0, maxY = 0, cells = 0;
      stack.push(start);
      labels[start] = label;
      while (stack.length) {
        const i = stack.pop()!;
        const x = i % w;
        const y = (i - x) / w;
        cells++;
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
        if (y < minY) minY = y;
        if (y > maxY) maxY = y;
        if (x > 0 && mask[i - 1] && !labels[i - 1]) (labels[i - 1] = label), stack.push(i - 1);
        if (x < w - 1 && mask[i + 1] && !labels[i + 1]) (labels[i + 1] = label), stack.push(i + 1);
        if (y > 0 && mask[i - w] && !labels[i - w]) (labels[i - w] = label), stack.push(i - w);
        if (y < h - 1 && mask[i + w] && !labels[i + w]) (labels[i + w] = label), stack.push(i + w);
      }
      if (cells < minCells) continue;
      const s = this.scale;
      boxes.push({
        x: Math.floor(minX * s),
        y: Math.floor(minY * s),
        width: Math.min(this.frameWidth, Math.ceil((maxX + 1) * s)) - Math.floor(minX * s),
        height: Math.min(this.frameHeight, Math.ceil((maxY + 1) * s)) - Math.floor(minY * s),
      });
    }
    return boxes;
  }
}

/** Cells whose centre lies inside any polygon (even-odd rule). */
export function rasterise(polygons: Polygon[], w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h);
  for (const poly of polygons) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (pointInPolygon((x + 0.5) / w, (y + 0.5) / h, poly)) out[y * w + x] = 1;
      }
    }
  }
  return out;
}
