// Turns per-frame motion into motion events with hysteresis: an event starts after a few frames with
// motion (a single flicker is not an event) and ends after a quiet period (a pause is not two events).
import type { Rect } from '../image/geometry.js';

export interface MotionEventStart {
  start: number;
}

export interface MotionEventEnd {
  start: number;
  end: number;
  /** The largest changed fraction seen during the event. */
  peak: number;
  /** The union of all moving boxes during the event, in frame pixels. */
  area: Rect;
}

export class MotionActivity {
  private streak = 0;
  private current: { start: number; lastMotion: number; peak: number; area: Rect } | undefined;

  constructor(
    private readonly startFrames: number,
    private readonly quietMs: number,
  ) {}

  get active(): boolean {
    return this.current !== undefined;
  }

  update(boxes: Rect[], changed: number, at: number): { started?: MotionEventStart; ended?: MotionEventEnd } {
    const moving = boxes.length > 0;
    this.streak = moving ? this.streak + 1 : 0;
    const result: { started?: MotionEventStart; ended?: MotionEventEnd } = {};
    if (this.current) {
      if (moving) {
        this.current.lastMotion = at;
        this.current.peak = Math.max(this.current.peak, changed);
        for (const b of boxes) this.current.area = union(this.current.area, b);
      } else if (at - this.current.lastMotion >= this.quietMs) {
        const { start, lastMotion, peak, area } = this.current;
        result.ended = { start, end: lastMotion, peak, area };
        this.current = undefined;
      }
    } else if (this.streak >= this.startFrames) {
      this.current = { start: at, lastMotion: at, peak: changed, area: boxes.reduce(union) };
      result.started = { start: at };
    }
    return result;
  }

  /** Ends an open event (camera stopped or went down). */
  close(at: number): MotionEventEnd | undefined {
    if (!this.current) return undefined;
    const { start, lastMotion, peak, area } = this.current;
    this.current = undefined;
    this.streak = 0;
    return { start, end: Math.min(at, lastMotion), peak, area };
  }
}

export function union(a: Rect, b: Rect): Rect {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, width: Math.max(a.x + a.width, b.x + b.width) - x, height: Math.max(a.y + a.height, b.y + b.height) - y };
}
