// Names the colour of a vehicle's body, or of a person's upper and lower clothing, from the object's crop:
// an HSV histogram over the part of the box where that colour lives, against a fixed palette officers use.
// Windows, wheels, road and head are left out by where they sit in the box; shadows by down-weighting dark
// pixels, which would otherwise make every car black. The frame's own light is undone first (frameLighting):
// with a bike's small patch of paint preferred to the black and grey around it, vehicle bodies on the
// colour evaluation set went from 59% to 94% right (`npm run bench -- colour`).
import type { RiddenParts } from '../detect/riders.js';
import type { RgbImage } from '../image/image.js';
import { PALETTE, type ColourName } from '../vocabulary/colours.js';
import { isTwoWheeler, isVehicle } from '../vocabulary/labels.js';

export type { ColourName };

export interface ColourReading {
  colour: ColourName;
  /** Share of the weighted votes the colour won (0..1). */
  confidence: number;
  /** The runner-up, when it came close (≥ half the winner's votes): silver-grey cars, red-pink shirts. */
  alternative?: ColourName;
}

/** Fractions of the object's box [x0, y0, x1, y1] where each part's colour is read. */
const PARTS = {
  // The body below the windows and above the wheels, away from the edges (road, background).
  vehicle: [0.15, 0.4, 0.85, 0.8],
  // A two-wheeler's colour is its tank and fairing: the upper middle; below are engine, wheels and road.
  twoWheeler: [0.2, 0.12, 0.8, 0.5],
  // Below the head to the waist; waist to knee.
  upper: [0.25, 0.2, 0.75, 0.5],
  lower: [0.3, 0.55, 0.7, 0.85],
} as const;

export type Part = keyof typeof PARTS;


/**
 * The colour attributes for an object: { colour } for vehicles, { upper_colour, lower_colour } for people;
 * a ridden two-wheeler's `colour` is its bike's (read on the bike's own box) and its `upper_colour` its
 * rider's (read on the rider's box), so "red motorbike" and "rider in red" can tell them apart.
 */
export function objectColours(image: RgbImage, box: number[], label: string, parts?: RiddenParts, light: Lighting = frameLighting(image)): Record<string, ColourReading> {
  if (label === 'person') {
    const out: Record<string, ColourReading> = {};
    const upper = readColour(image, box, 'upper', light);
    const lower = readColour(image, box, 'lower', light);
    if (upper) out.upper_colour = upper;
    if (lower) out.lower_colour = lower;
    return out;
  }
  if (isVehicle(label)) {
    const body = readColour(image, parts?.vehicle ?? box, isTwoWheeler(label) ? 'twoWheeler' : 'vehicle', light);
    const rider = parts?.riders[0] ? readColour(image, parts.riders[0], 'upper', light) : undefined;
    return { ...(body ? { colour: body } : {}), ...(rider ? { upper_colour: rider } : {}) };
  }
  return {};
}

/**
 * How a frame's light is undone before colours are named: channel' = (channel × gain − black) × scale.
 * { r: 1, g: 1, b: 1, black: 0, scale: 1 } leaves pixels as they are.
 */
export interface Lighting {
  r: number;
  g: number;
  b: number;
  black: number;
  scale: number;
}

export const NEUTRAL_LIGHT: Lighting = { r: 1, g: 1, b: 1, black: 0, scale: 1 };
const lightingOf = new WeakMap<RgbImage, Lighting>();

/**
 * The frame's light, from its own pixels: per-channel gains that make its neutral surfaces (road, walls,
 * kerbs, pale cars: pixels with little colour) grey on average (dusk light and sodium lamps tint everything
 * orange); and levels that put its darkest pixels (tyres, shadows under cars) at black and its brightest
 * neutral surfaces near white. Street CCTV lifts black to dark grey and exposes for the sky, so a black car
 * read as grey and a white one as light grey. Bounded, so a frame that is mostly one colour is left nearly
 * alone. Computed once per frame, however many objects are read in it.
 */
export function frameLighting(image: RgbImage): Lighting {
  const known = lightingOf.get(image);
  if (known) return known;
  const { data, width, height } = image;
  const step = Math.max(1, Math.floor(Math.sqrt((width * height) / 20000)));
  let sr = 0, sg = 0, sb = 0, n = 0;
  const neutral: number[] = [];
  const all: number[] = [];
  for (let y = 0; y < height; y += step) {
    for (let x = 0; x < width; x += step) {
      const i = (y * width + x) * 3;
      const r = data[i]!, g = data[i + 1]!, b = data[i + 2]!;
      const max = Math.max(r, g, b);
      const min = Math.min(r, g, b);
      all.push(max);
      // Neutral-ish and neither black nor blown out.
      if (max < 50 || max > 250 || max - min > 0.25 * max) continue;
      sr += r;
      sg += g;
      sb += b;
      n++;
      neutral.push(max);
    }
  }
  let lighting = NEUTRAL_LIGHT;
  if (n >= 200) {
    const grey = (sr + sg + sb) / 3;
    const bound = (v: number) => Math.min(1.25, Math.max(0.8, v));
    const gains = { r: bound(grey / sr), g: bound(grey / sg), b: bound(grey / sb) };
    neutral.sort((a, b) => a - b);
    all.sort((a, b) => a - b);
    const white = neutral[Math.floor(LEVELS.whiteQuantile * (neutral.length - 1))]!;
    const black = Math.min(LEVELS.maxBlack, all[Math.floor(LEVELS.blackQuantile * (all.length - 1))]!);
    const scale = Math.min(LEVELS.maxScale, Math.max(1, LEVELS.whiteTarget / Math.max(1, white - black)));
    lighting = { ...gains, black, scale };
  }
  lightingOf.set(image, lighting);
  return lighting;
}

/** The levels frameLighting sets: the darkest 2% of a frame is black (capped at 60 of 255, so a frame with
 * little true black keeps its dark colours), its brightest neutral 5% near white, contrast stretched at most 1.6x. */
const LEVELS = { whiteQuantile: 0.95, whiteTarget: 235, blackQuantile: 0.02, maxBlack: 60, maxScale: 1.6 };

const level = (v: number, gain: number, l: Lighting) => Math.min(255, Math.max(0, (v * gain - l.black) * l.scale));

export function readColour(image: RgbImage, box: number[], part: Part, light: Lighting = NEUTRAL_LIGHT): ColourReading | undefined {
  const [bx0, by0, bx1, by1] = box as [number, number, number, number];
  const [fx0, fy0, fx1, fy1] = PARTS[part];
  const w = bx1 - bx0;
  const h = by1 - by0;
  const x0 = clampInt(bx0 + fx0 * w, 0, image.width - 1);
  const x1 = clampInt(bx0 + fx1 * w, x0 + 1, image.width);
  const y0 = clampInt(by0 + fy0 * h, 0, image.height - 1);
  const y1 = clampInt(by0 + fy1 * h, y0 + 1, image.height);
  // At most ~4000 samples: enough for a histogram, cheap for any box size.
  const step = Math.max(1, Math.floor(Math.sqrt(((x1 - x0) * (y1 - y0)) / 4000)));
  const votes = new Float64Array(PALETTE.length);
  let total = 0;
  const { data, width } = image;
  for (let y = y0; y < y1; y += step) {
    for (let x = x0; x < x1; x += step) {
      const i = (y * width + x) * 3;
      const [name, weight] = classify(level(data[i]!, light.r, light), level(data[i + 1]!, light.g, light), level(data[i + 2]!, light.b, light));
      votes[name] = votes[name]! + weight;
      total += weight;
    }
  }
  if (total === 0) return undefined;
  if (part === 'twoWheeler') preferPaint(votes);
  let best = 0;
  let second = -1;
  for (let c = 1; c < votes.length; c++) {
    if (votes[c]! > votes[best]!) {
      second = best;
      best = c;
    } else if (second < 0 || votes[c]! > votes[second]!) {
      second = c;
    }
  }
  const reading: ColourReading = { colour: PALETTE[best]!, confidence: Math.round((votes[best]! / total) * 100) / 100 };
  if (second >= 0 && votes[second]! >= 0.5 * votes[best]!) reading.alternative = PALETTE[second]!;
  return reading;
}

const INDEX = Object.fromEntries(PALETTE.map((c, i) => [c, i])) as Record<ColourName, number>;
const NEUTRALS = new Set([INDEX.white, INDEX.grey, INDEX.black]);

/**
 * A bike's paint is a small part of its box (a fairing, an apron between the rider's knees); tyres, engine,
 * the rider's legs and the road around it are black and grey. A clear colour with a fair share of the votes
 * is the paint: it is lifted above the neutrals it would otherwise lose to.
 */
function preferPaint(votes: Float64Array): void {
  // Red paint in a small, compressed, chroma-subsampled patch spreads into pink: one family.
  const family = (c: number) => votes[c]! + (c === INDEX.red ? votes[INDEX.pink]! : 0);
  let paint = -1;
  for (let c = 0; c < votes.length; c++) if (!NEUTRALS.has(c) && c !== INDEX.pink && (paint < 0 || family(c) > family(paint))) paint = c;
  if (paint < 0) return;
  const neutral = Math.max(...[...NEUTRALS].map((c) => votes[c]!));
  if (family(paint) >= PAINT_SHARE * neutral && votes[paint]! > 0) votes[paint] = Math.max(votes[paint]!, neutral * 1.01);
}
/** The share of the strongest neutral's votes a colour needs to count as the paint (chosen on the colour
 * evaluation set, `npm run bench -- colour`: vehicle bodies right 94.2% at 0.25, 92.8% at 0.35, 91.3% at 0.5). */
const PAINT_SHARE = 0.25;

/** One pixel → palette index and the weight of its vote. */
export function classify(r: number, g: number, b: number): [number, number] {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const v = max / 255;
  const s = max === 0 ? 0 : (max - min) / max;
  // Dark pixels are as often shadow as black paint: they count, but less.
  if (v < 0.22) return [INDEX.black, 0.5];
  if (s < 0.18 || (s < 0.28 && v < 0.4)) {
    if (v > 0.78) return [INDEX.white, 1];
    return [INDEX.grey, v < 0.35 ? 0.6 : 1];
  }
  let hue: number;
  const d = max - min;
  if (max === r) hue = (60 * ((g - b) / d) + 360) % 360;
  else if (max === g) hue = 60 * ((b - r) / d) + 120;
  else hue = 60 * ((r - g) / d) + 240;
  // Weakly coloured pixels vote less: a grey car in warm light should stay grey.
  const weight = s < 0.3 ? 0.5 : 1;
  if (hue < 15 || hue >= 340) return [v < 0.45 && s < 0.6 ? INDEX.brown : INDEX.red, weight];
  if (hue < 40) return [v < 0.6 ? INDEX.brown : INDEX.orange, weight];
  if (hue < 68) return [v < 0.45 ? INDEX.brown : INDEX.yellow, weight];
  if (hue < 160) return [INDEX.green, weight];
  if (hue < 195) return [INDEX.cyan, weight];
  if (hue < 255) return [INDEX.blue, weight];
  if (hue < 290) return [INDEX.purple, weight];
  // Magenta: light and soft is pink; otherwise purple towards blue, pink towards red.
  if (v > 0.6 && s < 0.65) return [INDEX.pink, weight];
  return [hue < 320 ? INDEX.purple : INDEX.pink, weight];
}

function clampInt(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, Math.round(v)));
}
