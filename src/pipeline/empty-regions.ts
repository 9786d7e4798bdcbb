// Where the detector looked recently and found nothing. Street cameras see motion that is no object at
// all (leaves, a flag, a flickering lamp, rain, the clock overlay): measured on the car-park fixture, three
// such spots moved in nearly every frame and sent every frame to the detector for nothing. Motion inside
// an area found empty less than recheck_s ago is looked at again only when that time is up.
import { intersectionArea, rectToBox, type Box, type Rect } from '../image/geometry.js';

interface Checked {
  area: Box;
  at: number;
}

/** Most remembered areas per camera. */
const MAX_AREAS = 24;

export class EmptyRegions {
  private areas: Checked[] = [];

  constructor(private readonly recheckMs: number) {}

  /** The detector examined the frame of `motion` at `at` and found objects at `found`. */
  examined(motion: readonly Rect[], found: readonly Box[], at: number): void {
    if (this.recheckMs <= 0) return;
    this.areas = this.areas.filter((a) => at - a.at < this.recheckMs);
    for (const m of motion) {
      if (found.some((b) => intersectionArea(rectToBox(m), b) > 0)) continue;
      // With a margin: the flicker of a leaf or a lamp wanders a little from frame to frame.
      const mx = 0.25 * m.width;
      const my = 0.25 * m.height;
      this.areas.push({ area: [m.x - mx, m.y - my, m.x + m.width + mx, m.y + m.height + my], at });
    }
    if (this.areas.length > MAX_AREAS) this.areas.splice(0, this.areas.length - MAX_AREAS);
  }

  /** Motion boxes that lie in no area found empty within recheck_s: the ones worth a detection. */
  unexplained<T extends Rect>(motion: readonly T[], at: number): T[] {
    if (this.areas.length === 0) return [...motion];
    const fresh = this.areas.filter((a) => at - a.at < this.recheckMs);
    return motion.filter((m) => !fresh.some((a) => intersectionArea(rectToBox(m), a.area) >= 0.8 * Math.max(1, m.width * m.height)));
  }
}
