// Plate reading at one thread on both labelled photo sets: the development set (../shared/fixtures/plates-dev,
// what the reader was tuned on) and the held set (../shared/fixtures/plates, never tuned on): exact plates,
// per-character accuracy, time per photo, and the held set's misses.
import { readFileSync } from 'node:fs';
import { readImageFile } from '../src/detect/image-file.js';
import { PlateReader, type PlateReading } from '../src/plates/plate-reader.js';
import { sharedFixture } from '../test/harness/media-paths.js';

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

/** Edit distance between two plates, by character. */
export function editDistance(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  let row = y.map((_, j) => j + 1);
  row.unshift(0);
  for (let i = 1; i <= x.length; i++) {
    const next = [i];
    for (let j = 1; j <= y.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    row = next;
  }
  return row[y.length]!;
}

export interface PlateSetResult {
  set: string;
  photos: number;
  unreadable: string[];
  exact: number;
  /** Characters right: per photo, the truth's length less the edit distance to the reading (at least 0). */
  charsRight: number;
  chars: number;
  ms: number[];
  misses: Array<{ file: string; truth: string; read: string }>;
}

/**
 * The reading a photo is scored on: the one on the labelled main plate's box when boxes.tsv gives it
 * (photos with several vehicles), else the best-scoring one.
 */
function pick(plates: PlateReading[], box: number[] | undefined): PlateReading | undefined {
  if (!box) return plates[0];
  const [cx, cy, w, h] = box as [number, number, number, number];
  // boxes.tsv gives the box before rotation; a box at ±90° has its width and height swapped.
  return plates.find((p) => {
    const mx = (p.box[0] + p.box[2]) / 2;
    const my = (p.box[1] + p.box[3]) / 2;
    const r = Math.max(w, h) / 2;
    return Math.abs(mx - cx) < r && Math.abs(my - cy) < r;
  });
}

/** `only`, when given, picks the photos measured by file name and row in labels.tsv (from 0); all by default. */
export async function measurePlateSet(reader: PlateReader, set: string, only?: (file: string, row: number) => boolean): Promise<PlateSetResult> {
  const rows = readFileSync(sharedFixture(`${set}/labels.tsv`), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t') as [string, string])
    .filter(([file], i) => !only || only(file, i));
  const boxes = new Map<string, number[]>();
  for (const line of readFileSync(sharedFixture(`${set}/boxes.tsv`), 'utf8').trim().split('\n').slice(1)) {
    const f = line.split('\t');
    if (f[8] === undefined || f[8] === '1') boxes.set(f[0]!, f.slice(1, 5).map(Number));
  }
  const result: PlateSetResult = { set, photos: 0, unreadable: [], exact: 0, charsRight: 0, chars: 0, ms: [], misses: [] };
  for (const [file, truth] of rows) {
    let image;
    try {
      image = await readImageFile(sharedFixture(`${set}/${file}`));
    } catch {
      result.unreadable.push(file); // dev_164 is a truncated JPEG upstream
      continue;
    }
    result.photos++;
    const t0 = performance.now();
    const plates = await reader.read(image);
    result.ms.push(performance.now() - t0);
    const read = pick(plates, boxes.get(file))?.text ?? '';
    const n = [...truth].length;
    result.chars += n;
    result.charsRight += Math.max(0, n - editDistance(truth, read));
    if (read === truth) result.exact++;
    else result.misses.push({ file, truth, read });
  }
  return result;
}

export async function platesBenchmark(): Promise<string> {
  const reader = await PlateReader.create({ threads: 1 });
  const results = [await measurePlateSet(reader, 'plates-dev'), await measurePlateSet(reader, 'plates')];
  await reader.close();
  const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(1)}%`;
  const lines = [
    'Plates: PP-OCRv4 det + rec, 1 thread; the dev set is what the reader was tuned on, the held set was not',
    '',
    '| set | photos | exact plates | per-character | find + read, median ms per photo | plates per second on one core |',
    '|---|---:|---:|---:|---:|---:|',
    ...results.map(
      (r) =>
        `| ${r.set === 'plates' ? 'held (plates)' : 'dev (plates-dev)'} | ${r.photos}${r.unreadable.length ? ` (+${r.unreadable.length} unreadable)` : ''} | ${r.exact}/${r.photos} (${pct(r.exact, r.photos)}) | ${pct(r.charsRight, r.chars)} | ${median(r.ms).toFixed(1)} | ${(1000 / median(r.ms)).toFixed(1)} |`,
    ),
    '',
    ...results.map((r) => `${r.set === 'plates' ? 'Held' : 'Dev'} set misses (truth → read): ${r.misses.map((m) => `${m.file} ${m.truth} → ${m.read || 'nothing'}`).join('; ') || 'none'}`),
  ];
  return lines.join('\n');
}
