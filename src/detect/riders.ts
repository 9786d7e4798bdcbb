// A ridden two-wheeler is one object: the bike and the person(s) on it. COCO detectors box the bike and its
// rider apart, and on street CCTV they often see the rider clearly while the bike under them scores low
// (head-on, in queues). This joins them after NMS, in the detector's own post-processing, so `vigil detect`
// and the pipeline see the same objects: a bike with its riders becomes one detection labelled as the bike,
// boxed around all of them, with the parts kept for colour (the bike's body, the rider's clothing); a bike
// scoring under its class threshold counts when a rider sits on it; a person alone stays a person.
// Measured on ../shared/fixtures/vehicles-dev (`npm run bench -- two-wheelers`).
import type { Box } from '../image/geometry.js';
import { iou } from '../image/geometry.js';
import type { Detection } from './nms.js';
import { DEFAULT_RIDER_THRESHOLDS } from '../vocabulary/labels.js';

/** The bike and the riders a two-wheeler detection was joined from. */
export interface RiddenParts {
  vehicle: Box;
  riders: Box[];
}

export interface JoinedDetection extends Detection {
  parts?: RiddenParts;
}

/** A detection after NMS, with whether it cleared its class's threshold. */
export interface Candidate extends Detection {
  strong: boolean;
}

export interface RiderClasses {
  person: number;
  /** Class ids of two-wheelers (bicycle, motorcycle). */
  twoWheelers: ReadonlySet<number>;
}

export interface RiderOptions {
  /** A person at least this sure may ride a bike (and vouch for a weak one). */
  riderThreshold: number;
  /** A pillion must overlap the first rider at least this much (IoU): one bike, one queue of people is not. */
  pillionIou: number;
  /**
   * A weak bike is believed only because someone rides it, so that rider must sit over its middle: their
   * centre at most this far from the bike's, in bike widths (a strong bike allows the whole width). What a
   * standing person half covers beside them (a tripod, a parked bike's wheel) sits off to one side.
   */
  weakBikeCost: number;
}

// weakBikeCost 0.3: on vehicles-dev every weak bike a rider sits on right is within 0.3 (the same bikes are
// found from 0.2 up to no limit), and skimage's camera.png, whose cameraman stands over a tripod read as a
// 0.16 bicycle, is at 0.43.
export const RIDER_DEFAULTS: RiderOptions = { riderThreshold: DEFAULT_RIDER_THRESHOLDS.rider, pillionIou: 0.3, weakBikeCost: 0.3 };

/**
 * How well a person sits on a bike, lower is better; undefined when they do not: the person's centre is
 * over the bike, their head above the bike's top, and their lower edge reaches into the bike's box but not
 * far below it (a pedestrian in front of a parked bike stands lower).
 */
export function ridingCost(person: Box, bike: Box): number | undefined {
  const bw = bike[2] - bike[0];
  const bh = bike[3] - bike[1];
  const ph = person[3] - person[1];
  if (bw <= 0 || bh <= 0 || ph <= 0) return undefined;
  const pcx = (person[0] + person[2]) / 2;
  if (pcx < bike[0] - 0.1 * bw || pcx > bike[2] + 0.1 * bw) return undefined;
  if (person[1] > bike[1]) return undefined;
  if (person[3] < bike[1] + 0.1 * bh) return undefined;
  if (person[3] > bike[3] + 0.15 * ph) return undefined;
  return Math.abs(pcx - (bike[0] + bike[2]) / 2) / bw;
}

/**
 * Joins riders to their bikes. `candidates` are one image's detections after NMS, in image pixels: strong
 * ones cleared their class threshold; weak two-wheelers (under it, above the decode floor) are kept only
 * when a rider sits on them, weak people only as riders. Returns the detections to report.
 */
export function joinRiders(candidates: readonly Candidate[], classes: RiderClasses, options: RiderOptions = RIDER_DEFAULTS): JoinedDetection[] {
  const isBike = (d: Candidate) => classes.twoWheelers.has(d.classId);
  const riders = candidates.filter((d) => d.classId === classes.person && d.score >= options.riderThreshold);
  const bikes = candidates.filter((d) => isBike(d) && d.strong);
  // Each rider vouches for at most one weak bike: the one it sits on best, when no strong bike has it.
  // Best is nearest the middle, not highest scoring: a rider is often over two weak boxes of one bike, and
  // the off-centre one is the worse box (measured on vehicles-dev: two more bikes found, none lost).
  const weak = candidates.filter((d) => isBike(d) && !d.strong);
  for (const p of riders) {
    if (bikes.some((b) => ridingCost(p.box, b.box) !== undefined)) continue;
    let best: { bike: Candidate; cost: number } | undefined;
    for (const w of weak) {
      const cost = ridingCost(p.box, w.box);
      if (cost === undefined || cost > options.weakBikeCost || bikes.includes(w)) continue;
      if (!best || cost < best.cost) best = { bike: w, cost };
    }
    if (best) bikes.push(best.bike);
  }
  // Riders to bikes, best fits first: one bike per person, up to two people per bike.
  const pairs: Array<{ bike: Candidate; person: Candidate; cost: number }> = [];
  for (const bike of bikes) {
    for (const person of riders) {
      const cost = ridingCost(person.box, bike.box);
      if (cost !== undefined) pairs.push({ bike, person, cost });
    }
  }
  pairs.sort((a, b) => a.cost - b.cost);
  const seated = new Map<Candidate, Candidate[]>(bikes.map((b) => [b, []]));
  const taken = new Set<Candidate>();
  for (const { bike, person } of pairs) {
    const on = seated.get(bike)!;
    if (taken.has(person) || on.length >= 2) continue;
    if (on.length === 1 && iou(on[0]!.box, person.box) < options.pillionIou) continue;
    on.push(person);
    taken.add(person);
  }
  const out: JoinedDetection[] = [];
  for (const d of [...candidates].sort((a, b) => b.score - a.score)) {
    if (d.classId === classes.person) {
      if (d.strong && !taken.has(d)) out.push(plain(d));
    } else if (isBike(d)) {
      const on = seated.get(d);
      if (!on) continue;
      if (on.length === 0) {
        out.push(plain(d));
        continue;
      }
      const box = on.reduce<Box>((u, p) => [Math.min(u[0], p.box[0]), Math.min(u[1], p.box[1]), Math.max(u[2], p.box[2]), Math.max(u[3], p.box[3])], d.box);
      // Two bikes that now cover the same riders are one: the first (best-scoring) keeps them.
      if (out.some((o) => o.parts && iou(o.box, box) > 0.5)) continue;
      out.push({ classId: d.classId, score: d.score, box, parts: { vehicle: d.box, riders: on.map((p) => p.box) } });
    } else if (d.strong) {
      out.push(plain(d));
    }
  }
  return out;
}

function plain(d: Candidate): JoinedDetection {
  return { classId: d.classId, score: d.score, box: d.box };
}
