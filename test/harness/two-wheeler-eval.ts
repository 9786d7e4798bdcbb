// Street CCTV with labelled vehicles (../shared/fixtures/vehicles-dev, 145 frames, 325 motorcycles with riders,
// 691 cars, trucks and buses): the frames as the daemon sees them, and the scoring rule for two-wheelers.
// Shared by `npm run bench -- two-wheelers` and the test that keeps the README's figures true.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { LabeledDetection } from '../../src/detect/detector.js';
import { intersectionArea, iou, type Box } from '../../src/image/geometry.js';
import type { YuvImage } from '../../src/image/image.js';
import { bundledFfmpegPath, decodeVideoFrames } from '../../src/ingest/ffmpeg.js';
import { isTwoWheeler, isVehicle } from '../../src/vocabulary/labels.js';
import { detectSize } from './detection-eval.js';
import { stillsClip } from './media.js';
import { sharedFixture } from './media-paths.js';

export interface StreetFrame {
  file: string;
  image: YuvImage;
  /** Labelled vehicles in the image's pixels; a motorcycle's box holds the bike and its riders. */
  truth: Array<{ label: string; box: Box }>;
}

const LABELLED_SIZE = { width: 1280, height: 720 };
/** The daemon's default detect size for these 1280x720 frames. */
export const STREET_SIZE = detectSize(LABELLED_SIZE.width, LABELLED_SIZE.height);

/** Decodes every frame once (one ffmpeg, yuv420p at the detect size, ingest's bilinear scaler). */
export function loadStreetFrames(): StreetFrame[] {
  const tsv = sharedFixture('vehicles-dev/boxes.tsv');
  const rows = readFileSync(tsv, 'utf8').trim().split('\n').slice(1).map((line) => line.split('\t'));
  const files = [...new Set(rows.map((r) => r[0]!))].sort();
  const numbers = files.map((f) => Number(/^vd_(\d{3})\.jpg$/.exec(f)?.[1]));
  if (numbers.some((n, i) => n !== i + 1)) throw new Error(`${tsv}: expected frames vd_001.jpg to vd_${String(files.length).padStart(3, '0')}.jpg`);
  const decoded = decodeVideoFrames(bundledFfmpegPath(), path.join(path.dirname(tsv), 'vd_%03d.jpg'), files.map((_, i) => i), STREET_SIZE.width, STREET_SIZE.height);
  const sx = STREET_SIZE.width / LABELLED_SIZE.width;
  const sy = STREET_SIZE.height / LABELLED_SIZE.height;
  return files.map((file, i) => ({
    file,
    image: decoded.get(i)!,
    truth: rows.filter((r) => r[0] === file).map(([, label, x1, y1, x2, y2]) => ({ label: label!, box: [Number(x1) * sx, Number(y1) * sy, Number(x2) * sx, Number(y2) * sy] as Box })),
  }));
}

export interface StreetTally {
  twoWheelers: number;
  twoWheelersFound: number;
  /** Two-wheeler detections, and those that matched a labelled motorcycle. */
  twoWheelerDetections: number;
  twoWheelerRight: number;
  fourWheelers: number;
  fourWheelersFound: number;
  vehicleDetections: number;
  vehicleRight: number;
  /** Person detections lying inside a labelled motorcycle: riders reported as walking people. */
  ridersAsPersons: number;
}

export const EMPTY_TALLY: StreetTally = {
  twoWheelers: 0, twoWheelersFound: 0, twoWheelerDetections: 0, twoWheelerRight: 0,
  fourWheelers: 0, fourWheelersFound: 0, vehicleDetections: 0, vehicleRight: 0, ridersAsPersons: 0,
};

const inside = (d: Box, label: Box) => intersectionArea(d, label) / Math.max(1e-9, (d[2] - d[0]) * (d[3] - d[1]));

/**
 * The scoring rule. The labels box a motorcycle with its riders while a COCO detector boxes the bike alone,
 * so a two-wheeler detection finds a labelled motorcycle when at least 70% of its box lies inside the label
 * (a joined bike-and-rider box does too). A car, truck or bus detection finds a labelled car, truck or bus
 * at IoU ≥ 0.5, any of the three labels (the labeller's car/truck line is not the detector's). One
 * detection per label, the surest first. Precision counts every vehicle detection that found nothing as
 * wrong, though the labels miss some distant and parked vehicles: it is a lower bound.
 */
export function tallyStreet(detections: readonly LabeledDetection[], truth: StreetFrame['truth']): StreetTally {
  const t: StreetTally = { ...EMPTY_TALLY };
  const used = new Set<number>();
  const vehicles = detections.filter((d) => isVehicle(d.label)).sort((a, b) => b.score - a.score);
  for (const d of vehicles) {
    const two = isTwoWheeler(d.label);
    let best = -1;
    let bestFit = 0;
    truth.forEach((g, i) => {
      if (used.has(i) || (g.label === 'motorcycle') !== two) return;
      // Among labels the rule accepts, the one the detection overlaps most.
      const fit = two ? (inside(d.box, g.box) >= 0.7 ? 1 + iou(d.box, g.box) : 0) : iou(d.box, g.box) >= 0.5 ? iou(d.box, g.box) : 0;
      if (fit > bestFit) {
        bestFit = fit;
        best = i;
      }
    });
    t.vehicleDetections++;
    if (two) t.twoWheelerDetections++;
    if (best < 0) continue;
    used.add(best);
    t.vehicleRight++;
    if (two) t.twoWheelerRight++;
  }
  truth.forEach((g, i) => {
    if (g.label === 'motorcycle') {
      t.twoWheelers++;
      if (used.has(i)) t.twoWheelersFound++;
    } else {
      t.fourWheelers++;
      if (used.has(i)) t.fourWheelersFound++;
    }
  });
  t.ridersAsPersons = detections.filter((d) => d.label === 'person' && truth.some((g) => g.label === 'motorcycle' && inside(d.box, g.box) >= 0.7)).length;
  return t;
}

export function addTally(a: StreetTally, b: StreetTally): StreetTally {
  const out = { ...a };
  for (const k of Object.keys(out) as Array<keyof StreetTally>) out[k] += b[k];
  return out;
}

/** Percentages: two-wheeler recall and precision, four-wheeler recall, vehicle precision. */
export function streetFigures(t: StreetTally): { twoWheelerRecall: number; twoWheelerPrecision: number; fourWheelerRecall: number; vehiclePrecision: number } {
  const pct = (n: number, d: number) => (d === 0 ? 0 : (100 * n) / d);
  return {
    twoWheelerRecall: pct(t.twoWheelersFound, t.twoWheelers),
    twoWheelerPrecision: pct(t.twoWheelerRight, t.twoWheelerDetections),
    fourWheelerRecall: pct(t.fourWheelersFound, t.fourWheelers),
    vehiclePrecision: pct(t.vehicleRight, t.vehicleDetections),
  };
}

/** The frames played as a camera: a 1280x720 H.264 clip at `fps`, one frame each. */
export function streetFramesClip(fps: number): Promise<string> {
  const tsv = sharedFixture('vehicles-dev/boxes.tsv');
  return stillsClip(path.join(path.dirname(tsv), 'vd_%03d.jpg'), 'vehicles-dev', fps);
}

/**
 * How many ridden bikes the labels hold as objects rather than sightings: labelled motorcycles linked from
 * frame to frame (the best overlap ≥ 0.3 with one in the next frame or the one after), counting chains seen
 * in at least `minFrames` frames.
 */
export function labelledBikeTracks(frames: readonly StreetFrame[], minFrames: number): number {
  const chains: Array<{ box: Box; frame: number; length: number }> = [];
  frames.forEach((f, i) => {
    const open = chains.filter((c) => i - c.frame <= 2);
    const used = new Set<(typeof chains)[number]>();
    for (const g of f.truth.filter((t) => t.label === 'motorcycle')) {
      let best: (typeof chains)[number] | undefined;
      let bestIou = 0.3;
      for (const c of open) {
        const o = iou(c.box, g.box);
        if (!used.has(c) && o >= bestIou) {
          best = c;
          bestIou = o;
        }
      }
      if (best) {
        used.add(best);
        best.box = g.box;
        best.frame = i;
        best.length++;
      } else {
        chains.push({ box: g.box, frame: i, length: 1 });
      }
    }
  });
  return chains.filter((c) => c.length >= minFrames).length;
}
