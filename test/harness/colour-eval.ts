// The hand-labelled colour evaluation set (benchmarks/accuracy/colour-eval.json, provenance in colour-eval.md):
// real vehicles and people, their pictures decoded as the daemon sees them (fixture media as 640-wide
// yuv420p frames converted to RGB; Debian photos as `vigil detect` reads them), and the scoring. Shared by
// `npm run bench -- colour` and the test that keeps the README's colour figures true.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readImageFile } from '../../src/detect/image-file.js';
import type { Box } from '../../src/image/geometry.js';
import type { RgbImage } from '../../src/image/image.js';
import { yuv420pToRgb } from '../../src/image/yuv.js';
import { bundledFfmpegPath, decodeVideoFrames } from '../../src/ingest/ffmpeg.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { COLOUR_NEIGHBOURS, PALETTE, type ColourName } from '../../src/vocabulary/colours.js';
import { detectSize } from './detection-eval.js';
import { debianMedia, sharedFixture } from './media-paths.js';

export const COLOUR_PARTS = ['colour', 'upper_colour', 'lower_colour'] as const;
export type ColourPart = (typeof COLOUR_PARTS)[number];

interface LabelledCrop {
  source: string;
  frame?: number;
  box: Box;
  label: string;
  colour?: ColourName;
  upper_colour?: ColourName;
  lower_colour?: ColourName;
  also?: Partial<Record<ColourPart, ColourName[]>>;
  hard?: boolean;
}

interface ColourSet {
  sources: Record<string, { file: string; width: number; height: number }>;
  crops: LabelledCrop[];
}

/** One labelled object in the picture the daemon would read its colours from, box in that picture's pixels. */
export interface ColourCrop {
  name: string;
  picture: RgbImage;
  box: Box;
  label: string;
  truth: Partial<Record<ColourPart, { colour: ColourName; also: ColourName[] }>>;
}

export const COLOUR_SET_FILE = path.join(PROJECT_ROOT, 'benchmarks', 'accuracy', 'colour-eval.json');

function mediaPath(file: string): string {
  if (file.startsWith('fixtures/')) return sharedFixture(file.slice('fixtures/'.length));
  if (file.startsWith('debian/')) return debianMedia(file.slice('debian/'.length));
  throw new Error(`${COLOUR_SET_FILE}: source file "${file}" is neither fixtures/... nor debian/...`);
}

/** Decodes every labelled picture once; crops that are `hard` are left out. */
export async function loadColourCrops(file = COLOUR_SET_FILE): Promise<ColourCrop[]> {
  const set = JSON.parse(readFileSync(file, 'utf8')) as ColourSet;
  const pictures = new Map<string, { picture: RgbImage; sx: number; sy: number }>();
  const key = (c: LabelledCrop) => `${c.source}#${c.frame ?? ''}`;
  const scored = set.crops.filter((c) => !c.hard);
  const bySource = new Map<string, LabelledCrop[]>();
  for (const c of scored) bySource.set(c.source, [...(bySource.get(c.source) ?? []), c]);
  for (const [name, crops] of bySource) {
    const source = set.sources[name];
    if (!source) throw new Error(`${file}: a crop names source "${name}", which is not in "sources"`);
    const media = mediaPath(source.file);
    if (source.file.startsWith('debian/') && crops.every((c) => c.frame === undefined)) {
      // Photos reach colour through `vigil detect`: full resolution RGB.
      pictures.set(`${name}#`, { picture: await readImageFile(media), sx: 1, sy: 1 });
      continue;
    }
    const size = detectSize(source.width, source.height);
    const frames = [...new Set(crops.map((c) => c.frame ?? 0))];
    const decoded = decodeVideoFrames(bundledFfmpegPath(), media, frames, size.width, size.height);
    for (const f of frames) {
      pictures.set(`${name}#${crops.some((c) => c.frame !== undefined) ? f : ''}`, { picture: yuv420pToRgb(decoded.get(f)!), sx: size.width / source.width, sy: size.height / source.height });
    }
  }
  return scored.map((c, i) => {
    const p = pictures.get(key(c))!;
    const truth: ColourCrop['truth'] = {};
    for (const part of COLOUR_PARTS) {
      const colour = c[part];
      if (!colour) continue;
      if (!PALETTE.includes(colour)) throw new Error(`${file}: crop ${i} (${c.source}) has ${part} "${colour}", not a palette colour`);
      truth[part] = { colour, also: c.also?.[part] ?? [] };
    }
    return { name: `${c.source}${c.frame !== undefined ? `#${c.frame}` : ''}`, picture: p.picture, label: c.label, truth, box: [c.box[0] * p.sx, c.box[1] * p.sy, c.box[2] * p.sx, c.box[3] * p.sy] };
  });
}

/**
 * A part's readings against the labels: right when the reading is the label, a neighbour the labeller
 * accepted for that crop (`also`), or the label's neighbour in search (white ~ grey/silver, blue ~ black: a
 * witness's "white" finds the silver car as a near match, so reading one for the other still finds it).
 */
export interface PartScore {
  scored: number;
  exact: number;
  /** The label or an accepted neighbour ("silver" for a label of white, ...). */
  right: number;
  /** confusion[truth][read]; 'none' when no colour was read. */
  confusion: Map<string, Map<string, number>>;
}

export function scorePart(pairs: Array<{ truth: { colour: ColourName; also: ColourName[] }; read: ColourName | undefined }>): PartScore {
  const s: PartScore = { scored: 0, exact: 0, right: 0, confusion: new Map() };
  for (const { truth, read } of pairs) {
    s.scored++;
    if (read === truth.colour) s.exact++;
    if (read !== undefined && (read === truth.colour || truth.also.includes(read) || (COLOUR_NEIGHBOURS[truth.colour] ?? []).includes(read))) s.right++;
    const row = s.confusion.get(truth.colour) ?? new Map<string, number>();
    s.confusion.set(truth.colour, row);
    row.set(read ?? 'none', (row.get(read ?? 'none') ?? 0) + 1);
  }
  return s;
}

/** Per colour: precision and recall of exact readings (%), from a confusion matrix. */
export function perColour(confusion: PartScore['confusion']): Array<{ colour: string; labelled: number; precision: number; recall: number }> {
  const out: Array<{ colour: string; labelled: number; precision: number; recall: number }> = [];
  for (const colour of PALETTE) {
    const row = confusion.get(colour);
    const labelled = row ? [...row.values()].reduce((a, b) => a + b, 0) : 0;
    const readAs = [...confusion.values()].reduce((n, r) => n + (r.get(colour) ?? 0), 0);
    if (labelled === 0 && readAs === 0) continue;
    const tp = row?.get(colour) ?? 0;
    out.push({ colour, labelled, precision: readAs ? (100 * tp) / readAs : 0, recall: labelled ? (100 * tp) / labelled : 0 });
  }
  return out;
}

/** The confusion matrix as a markdown table (rows: labelled; columns: read). */
export function confusionTable(confusion: PartScore['confusion']): string[] {
  const cols = [...PALETTE.filter((c) => [...confusion.values()].some((r) => r.has(c)) || confusion.has(c)), 'none'].filter(
    (c) => c !== 'none' || [...confusion.values()].some((r) => r.has('none')),
  );
  const rows = PALETTE.filter((c) => confusion.has(c));
  return [
    `| labelled \\ read | ${cols.join(' | ')} |`,
    `|---|${cols.map(() => '---:').join('|')}|`,
    ...rows.map((r) => `| ${r} | ${cols.map((c) => confusion.get(r)!.get(c) ?? '').join(' | ')} |`),
  ];
}
