// Follows objects across one camera's frames so that each person or vehicle becomes one event: predict
// where each track is now (constant velocity), match detections by overlap, and move tracks through
// tentative → confirmed → ended. Parked objects become stationary and are only looked at now and then,
// so a car parked all day is one event, not one a minute.
import type { TrackerConfig } from '../config/schema.js';
import { intersectionArea, iou, pointInPolygon, rectToBox, type Box as BoxXYXY, type Polygon } from '../image/geometry.js';
import type { RiddenParts } from '../detect/riders.js';
import { isTwoWheeler, labelGroup } from '../vocabulary/labels.js';

export type { BoxXYXY, RiddenParts };

export interface TrackInput {
  label: string;
  score: number;
  box: BoxXYXY;
  /** A ridden two-wheeler's bike and riders (the detector joined them; `box` holds them all). */
  parts?: RiddenParts;
}

export interface Zone {
  name: string;
  polygon: Polygon;
}

export type TrackState = 'tentative' | 'confirmed' | 'ended';

export interface Track {
  id: number;
  state: TrackState;
  firstSeen: number;
  lastSeen: number;
  hits: number;
  /** Looked at (inside an examined region) and not found, since last seen. */
  misses: number;
  box: BoxXYXY;
  /** Centre velocity, pixels per millisecond. */
  velocity: [number, number];
  label: string;
  votes: Map<string, number>;
  maxScore: number;
  /** Quality (score × box area) of the best sighting so far, for the snapshot. */
  bestQuality: number;
  best: { time: number; box: BoxXYXY; score: number; parts?: RiddenParts } | undefined;
  /** The latest sighting's bike and riders, for a ridden two-wheeler. */
  parts: RiddenParts | undefined;
  /** Centre points, at most one per PATH_STEP_MS. */
  path: Array<[number, number, number]>;
  zones: Set<string>;
  stationary: boolean;
  /** Where the object was when it last moved, and since when it has stayed near there. */
  anchor: [number, number];
  anchorTime: number;
  /** When the detector last looked where the track is. */
  lastChecked: number;
  /** Consecutive detections that landed where the track was predicted to be. */
  steadyHits: number;
}

export interface TrackUpdate {
  /** Tracks that became confirmed in this update: new object events. */
  confirmed: Track[];
  /** Confirmed tracks whose best sighting is this frame's: keep this frame for the snapshot. */
  improved: Track[];
  /** Confirmed tracks that ended. */
  ended: Track[];
}

const PATH_STEP_MS = 500;
/** A detection overlapping its track's prediction this much counts as the track moving predictably. */
const STEADY_IOU = 0.5;
/** Steady detections in a row before a track may coast. */
const STEADY_HITS = 2;
const MAX_PATH = 400;

// Labels a detector may swap between frames for the same object; and a rider is seen now and then without
// their bike (the detector missed it): a person may continue a ridden two-wheeler's track, and a person's
// track that is then seen riding a bike was a rider all along. A parked bike does not walk off with a
// passer-by, nor does a pedestrian become a bike by passing one.
const group = labelGroup;
const compatible = (d: TrackInput, t: Track) =>
  group(d.label) === group(t.label) ||
  (d.label === 'person' && isTwoWheeler(t.label) && (t.parts?.riders.length ?? 0) > 0) ||
  (isTwoWheeler(d.label) && d.parts !== undefined && t.label === 'person');

export class Tracker {
  private tracks: Track[] = [];
  private nextId = 1;

  constructor(
    private readonly config: TrackerConfig,
    private readonly frameW: number,
    private readonly frameH: number,
    private readonly zones: Zone[] = [],
  ) {}

  get live(): readonly Track[] {
    return this.tracks;
  }

  /** Boxes the detector should look at in the next frame: moving tracks always, stationary ones now and then. */
  regionsToExamine(at: number): BoxXYXY[] {
    return this.tracks
      .filter((t) => !t.stationary || at - t.lastChecked >= this.config.stationary_check_s * 1000)
      .map((t) => this.predict(t, at));
  }

  /**
   * Whether this frame may skip the detector: every confirmed track is moving as predicted (or parked and
   * not due a look) and was detected within coast_s, and every moving area lies on one of those tracks.
   * Then nothing new can have appeared, and the tracks are carried by their predictions until the next
   * frame that is detected.
   */
  canCoast(at: number, motion: ReadonlyArray<{ x: number; y: number; width: number; height: number }>): boolean {
    const limitMs = this.config.coast_s * 1000;
    if (limitMs <= 0 || this.tracks.length === 0) return false;
    const steady: BoxXYXY[] = [];
    for (const t of this.tracks) {
      if (t.stationary) {
        if (at - t.lastChecked >= this.config.stationary_check_s * 1000) return false;
        continue;
      }
      // A tentative track needs detections to be confirmed, and a track missed where it was looked for may
      // be gone or hidden: neither explains motion (below), so whatever they do that moves is detected.
      if (t.state === 'tentative' || t.misses > 0) continue;
      const [x1, y1, x2, y2] = this.predict(t, at);
      // Predicted out of the picture: nothing there to look at.
      if (x2 <= 0 || y2 <= 0 || x1 >= this.frameW || y1 >= this.frameH) continue;
      if (t.steadyHits < STEADY_HITS || at - t.lastChecked >= limitMs) return false;
      // Motion boxes come from a downscaled frame and take in shadows: give the prediction some room.
      const mx = 0.3 * (x2 - x1);
      const my = 0.3 * (y2 - y1);
      steady.push([x1 - mx, y1 - my, x2 + mx, y2 + my]);
    }
    return motion.every((m) => {
      const area = Math.max(1, m.width * m.height);
      return steady.some((b) => intersectionArea(b, rectToBox(m)) >= 0.6 * area);
    });
  }

  /**
   * Takes the detections of one frame. `examined` are the regions the detector looked at (full frame when
   * omitted): only tracks inside them can be missed.
   */
  update(detections: TrackInput[], at: number, examined?: Array<{ x: number; y: number; width: number; height: number }>): TrackUpdate {
    const result: TrackUpdate = { confirmed: [], improved: [], ended: [] };
    const predicted = this.tracks.map((t) => this.predict(t, at));
    const pairs: Array<[number, number, number]> = [];
    this.tracks.forEach((t, ti) => {
      detections.forEach((d, di) => {
        if (!compatible(d, t)) return;
        const o = iou(predicted[ti]!, d.box);
        if (o >= this.config.iou_threshold) pairs.push([o, ti, di]);
      });
    });
    pairs.sort((a, b) => b[0] - a[0]);
    const trackUsed = new Set<number>();
    const detUsed = new Set<number>();
    for (const [o, ti, di] of pairs) {
      if (trackUsed.has(ti) || detUsed.has(di)) continue;
      trackUsed.add(ti);
      detUsed.add(di);
      const t = this.tracks[ti]!;
      t.steadyHits = o >= STEADY_IOU ? t.steadyHits + 1 : 0;
      this.hit(t, detections[di]!, at, result);
    }
    this.tracks.forEach((t, ti) => {
      if (trackUsed.has(ti)) return;
      const c = centre(predicted[ti]!);
      const looked = !examined || examined.some((r) => c[0] >= r.x && c[0] <= r.x + r.width && c[1] >= r.y && c[1] <= r.y + r.height);
      if (looked) {
        t.steadyHits = 0;
        t.misses++;
        t.lastChecked = at;
      }
    });
    detections.forEach((d, di) => {
      if (!detUsed.has(di)) this.tracks.push(this.create(d, at, result));
    });
    this.tracks = this.tracks.filter((t) => {
      if (!this.expired(t, at)) return true;
      if (t.state === 'confirmed') result.ended.push(t);
      t.state = 'ended';
      return false;
    });
    return result;
  }

  /** Ends every track (camera stopped). */
  endAll(): Track[] {
    const ended = this.tracks.filter((t) => t.state === 'confirmed');
    for (const t of this.tracks) t.state = 'ended';
    this.tracks = [];
    return ended;
  }

  private expired(t: Track, at: number): boolean {
    const unseen = at - t.lastSeen;
    if (t.state === 'tentative') return t.misses >= 1 || unseen > 1000 * this.config.max_lost_s;
    if (t.stationary) return unseen > 1000 * this.config.stationary_max_lost_s && t.misses >= 2;
    // A moving object is gone when it has been missed where we looked, for long enough; one that simply
    // was not looked at (no motion there) is kept until it would have counted as parked.
    return (t.misses >= 2 && unseen > 1000 * this.config.max_lost_s) || unseen > 1000 * this.config.stationary_max_lost_s;
  }

  private predict(t: Track, at: number): BoxXYXY {
    const dt = Math.min(at - t.lastSeen, 2000);
    const dx = t.velocity[0] * dt;
    const dy = t.velocity[1] * dt;
    return [t.box[0] + dx, t.box[1] + dy, t.box[2] + dx, t.box[3] + dy];
  }

  private create(d: TrackInput, at: number, result: TrackUpdate): Track {
    const c = centre(d.box);
    const t: Track = {
      id: this.nextId++,
      state: 'tentative',
      firstSeen: at,
      lastSeen: at,
      hits: 0,
      misses: 0,
      box: d.box,
      velocity: [0, 0],
      label: d.label,
      votes: new Map(),
      maxScore: 0,
      bestQuality: 0,
      best: undefined,
      parts: undefined,
      path: [],
      zones: new Set(),
      stationary: false,
      anchor: c,
      anchorTime: at,
      lastChecked: at,
      steadyHits: 0,
    };
    this.hit(t, d, at, result, true);
    return t;
  }

  private hit(t: Track, input: TrackInput, at: number, result: TrackUpdate, fresh = false): void {
    // The rider of a two-wheeler track, seen without the bike: the track moves with them and stays a bike.
    const riderOnly = input.label === 'person' && isTwoWheeler(t.label);
    const d = riderOnly ? riderMoved(t, input) : input;
    const before = centre(t.box);
    const after = centre(d.box);
    const dt = at - t.lastSeen;
    if (!fresh && dt > 0) {
      // Smoothed, so one jittery box does not fling the prediction.
      t.velocity = [0.5 * t.velocity[0] + (0.5 * (after[0] - before[0])) / dt, 0.5 * t.velocity[1] + (0.5 * (after[1] - before[1])) / dt];
    }
    t.box = d.box;
    t.parts = d.parts;
    t.lastSeen = at;
    t.lastChecked = at;
    t.hits++;
    t.misses = 0;
    if (!riderOnly) {
      t.maxScore = Math.max(t.maxScore, d.score);
      // A person's track seen on a bike was a rider: it is the bike's from now on.
      if (isTwoWheeler(d.label)) t.votes.delete('person');
      t.votes.set(d.label, (t.votes.get(d.label) ?? 0) + d.score);
      t.label = [...t.votes.entries()].sort((a, b) => b[1] - a[1])[0]![0];
    }
    const last = t.path[t.path.length - 1];
    if (!last || at - last[0] >= PATH_STEP_MS) {
      t.path.push([at, Math.round(after[0]), Math.round(after[1])]);
      if (t.path.length > MAX_PATH) t.path.splice(1, 1);
    }
    // Zones are entered where the object stands: the bottom centre of its box.
    const foot: [number, number] = [after[0] / this.frameW, d.box[3] / this.frameH];
    for (const z of this.zones) if (pointInPolygon(foot[0], foot[1], z.polygon)) t.zones.add(z.name);
    this.updateStationary(t, after, at);

    // A sighting without the bike is never the best picture of a two-wheeler.
    const quality = riderOnly ? 0 : d.score * (d.box[2] - d.box[0]) * (d.box[3] - d.box[1]);
    const improvedBest = quality > t.bestQuality;
    if (improvedBest) {
      t.bestQuality = quality;
      t.best = { time: at, box: d.box, score: d.score, ...(d.parts ? { parts: d.parts } : {}) };
    }
    if (t.state === 'tentative' && t.hits >= this.config.min_hits) {
      t.state = 'confirmed';
      result.confirmed.push(t);
    } else if (t.state === 'confirmed' && improvedBest) {
      result.improved.push(t);
    }
  }

  private updateStationary(t: Track, c: [number, number], at: number): void {
    const diag = Math.hypot(t.box[2] - t.box[0], t.box[3] - t.box[1]);
    if (Math.hypot(c[0] - t.anchor[0], c[1] - t.anchor[1]) > 0.15 * diag) {
      t.anchor = c;
      t.anchorTime = at;
      t.stationary = false;
      return;
    }
    if (at - t.anchorTime >= this.config.stationary_after_s * 1000) {
      t.stationary = true;
      t.velocity = [0, 0];
    }
  }
}

/** Where a two-wheeler is when only its rider was seen: its last box and parts, moved as the rider's head moved. */
function riderMoved(t: Track, rider: TrackInput): TrackInput {
  const was = t.parts?.riders[0] ?? t.box;
  const dx = (rider.box[0] + rider.box[2]) / 2 - (was[0] + was[2]) / 2;
  const dy = rider.box[1] - was[1];
  const move = (b: BoxXYXY): BoxXYXY => [b[0] + dx, b[1] + dy, b[2] + dx, b[3] + dy];
  const parts = t.parts ? { vehicle: move(t.parts.vehicle), riders: [rider.box, ...t.parts.riders.slice(1).map(move)] } : undefined;
  return { label: t.label, score: rider.score, box: move(t.box), ...(parts ? { parts } : {}) };
}

function centre(b: BoxXYXY): [number, number] {
  return [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2];
}
