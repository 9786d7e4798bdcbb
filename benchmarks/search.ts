// Search at town scale: stores of 1M and 10M synthetic events (116 cameras, a year of traffic, realistic
// label / colour / plate mixes), built through the EventStore (its batched insert throughput is reported),
// then p50 / p99 of 20 query shapes, parse + plan + SQLite, as the API runs them.
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import os from 'node:os';
import path from 'node:path';
import { EventStore, type EventFields } from '../src/events/store.js';
import { LETTERS, BODY } from '../src/plates/plate-rules.js';
import { parseQuery, type Place } from '../src/search/query-parser.js';
import { PROJECT_ROOT } from '../src/version.js';

export const DIR = path.join(PROJECT_ROOT, '.cache', 'bench');
export const LOCATIONS = ['market', 'school gate', 'north checkpoint', 'bus station', 'hospital', 'town square', 'bridge road', 'river walk', 'temple', 'east street',
  'west street', 'old town', 'stadium', 'police station', 'post office', 'south gate', 'park', 'library', 'mall', 'night market'];
export const ZH = ['集市', '校门', '北卡口', '汽车站', '医院', '广场', '桥头', '河边', '寺庙', '东街', '西街', '老城', '体育场', '派出所', '邮局', '南门', '公园', '图书馆', '商场', '夜市'];
const LABELS: Array<[string, number]> = [['person', 0.5], ['car', 0.3], ['motorcycle', 0.1], ['bicycle', 0.04], ['bus', 0.02], ['truck', 0.04]];
const COLOURS: Array<[string, number]> = [['white', 0.25], ['black', 0.2], ['grey', 0.18], ['red', 0.08], ['blue', 0.1], ['green', 0.04], ['yellow', 0.04], ['brown', 0.04], ['orange', 0.02], ['pink', 0.02], ['purple', 0.01], ['cyan', 0.02]];
const YEAR_MS = 365 * 86_400_000;
export const END = Date.parse('2026-11-28T12:00:00+08:00');

export function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function pick<T>(r: () => number, weighted: Array<[T, number]>): T {
  let x = r() * weighted.reduce((a, [, w]) => a + w, 0);
  for (const [v, w] of weighted) if ((x -= w) <= 0) return v;
  return weighted[0]![0];
}

export function event(r: () => number, i: number): EventFields {
  const cam = i % 116;
  const location = LOCATIONS[cam % LOCATIONS.length]!;
  // Busier by day: two thirds of the traffic between 07:00 and 21:00.
  const day = Math.floor(r() * 365);
  const minute = r() < 0.67 ? 420 + Math.floor(r() * 840) : Math.floor(r() * 1440);
  const start = END - YEAR_MS + day * 86_400_000 + minute * 60_000;
  const label = pick(r, LABELS);
  const colour = () => ({ colour: pick(r, COLOURS), confidence: Math.round(r() * 100) / 100 });
  const base = { camera: `cam-${String(cam + 1).padStart(3, '0')}`, location, label, score: 0.4 + r() * 0.6, start, end: start + Math.floor(r() * 60_000),
    zones: r() < 0.2 ? ['crossing'] : [] };
  if (label !== 'person' && r() < 0.1) {
    const plate = `贵${LETTERS[Math.floor(r() * LETTERS.length)]}${Array.from({ length: 5 }, () => BODY[Math.floor(r() * BODY.length)]).join('')}`;
    return { ...base, kind: 'plate', attributes: { plate: { text: plate, confidence: 0.9 } } };
  }
  if (r() < 0.05) return { ...base, kind: 'motion', label: null };
  return { ...base, kind: 'object', attributes: label === 'person' ? { upper_colour: colour(), lower_colour: colour() } : { colour: colour() } };
}

/**
 * Builds (or reuses) a store of `n` events. The first 200k go through EventStore.insert, as the daemon
 * writes, to measure its batched insert rate; the rest are bulk-loaded with the same schema, indexes built
 * afterwards (through EventStore alone, a 10M store takes over half an hour to build here).
 */
export async function buildStore(n: number): Promise<{ file: string; rate: number | undefined }> {
  mkdirSync(DIR, { recursive: true });
  const file = path.join(DIR, `search-${n}.db`);
  if (existsSync(file)) return { file, rate: undefined };
  const building = path.join(DIR, `building-${n}`);
  rmSync(building, { recursive: true, force: true });
  const store = EventStore.open(building, { flushMs: 50, batchSize: 5000 });
  const r = rng(n);
  const measured = Math.min(n, 200_000);
  const t0 = performance.now();
  for (let i = 0; i < measured; i += 20_000) {
    await Promise.all(Array.from({ length: Math.min(20_000, measured - i) }, (_, k) => store.insert(event(r, i + k))));
  }
  const rate = measured / ((performance.now() - t0) / 1000);
  store.close();
  // The rest goes in straight through SQLite, past the store: a benchmark's bulk load, not vigil's write path.
  const db = new Database(path.join(building, 'events.db'));
  // Bulk load: indexes dropped, rows in big transactions, indexes rebuilt, as a restore would do it.
  const indexes = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('events', 'event_attributes', 'event_zones')").all() as Array<{ name: string; sql: string }>;
  for (const ix of indexes) db.exec(`DROP INDEX ${ix.name}`);
  db.pragma('synchronous = OFF');
  let seq = measured;
  const insertEvent = db.prepare(`INSERT INTO events (seq, kind, camera, location, label, score, start_ms, end_ms, zones, attributes, updated_ms)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const insertAttr = db.prepare('INSERT OR IGNORE INTO event_attributes (name, value, event_id, confidence) VALUES (?, ?, ?, ?)');
  const insertZone = db.prepare('INSERT OR IGNORE INTO event_zones (zone, event_id) VALUES (?, ?)');
  const insertPlate = db.prepare('INSERT INTO plate_text (rowid, text) VALUES (?, ?)');
  for (let i = measured; i < n; i += 100_000) {
    db.transaction(() => {
      for (let k = i; k < Math.min(n, i + 100_000); k++) {
        const e = event(r, k);
        const id = Number(insertEvent.run(++seq, e.kind, e.camera, e.location, e.label ?? null, e.score ?? null, e.start, e.end ?? null, JSON.stringify(e.zones ?? []), JSON.stringify(e.attributes ?? {}), e.start).lastInsertRowid);
        for (const z of e.zones ?? []) insertZone.run(z, id);
        for (const [name, v] of Object.entries(e.attributes ?? {})) {
          const a = v as { colour?: string; text?: string; confidence?: number };
          insertAttr.run(name, a.text ?? a.colour, id, a.confidence ?? null);
          if (a.text) insertPlate.run(id, a.text);
        }
      }
    })();
    if ((i - measured) % 1_000_000 === 0 && i > measured) console.error(`search: ${(i / 1e6).toFixed(1)}M events loaded`);
  }
  db.prepare("UPDATE meta SET value = ? WHERE key = 'last_seq'").run(seq);
  for (const ix of indexes) db.exec(ix.sql);
  db.exec('ANALYZE');
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  renameSync(path.join(building, 'events.db'), file);
  rmSync(building, { recursive: true, force: true });
  return { file, rate };
}

export const QUERIES = [
  'red motorbike at market 14:00', '集市 红色摩托车 下午两点', 'person near school gate yesterday evening', 'white car', 'black car at north checkpoint',
  'man in a red jacket', '穿红衣服的人', 'blue jeans', 'truck last 2 hours', '最近两小时 货车', 'bus station 8am', '2026-09-12 car',
  '9月12日 医院 行人', 'between 13:00 and 15:00 bicycle', '贵F12345', '贵F·8', 'F12*45', 'crossing', 'yellow taxi 夜市', 'motorcycle',
];

/** The parser's context the search benchmarks run with: the town's places, "now" at the end of the year of events. */
export function searchContext() {
  const places: Place[] = LOCATIONS.map((name, i) => ({ kind: 'location', name, terms: [name, ZH[i]!] }));
  places.push({ kind: 'zone', name: 'crossing', camera: 'cam-001', terms: ['crossing', '斑马线'] });
  return { now: new Date(END), timeZone: 'Asia/Shanghai', windowMinutes: 30, places };
}

export async function searchBenchmark(sizes: number[]): Promise<string> {
  const ctx = searchContext();
  const sections: string[] = [];
  for (const n of sizes) {
    const { file, rate } = await buildStore(n);
    const store = new EventStore(file);
    const rows: string[] = [];
    for (const q of QUERIES) {
      const times: number[] = [];
      let found = 0;
      for (let i = 0; i < 60; i++) {
        const t0 = performance.now();
        const page = store.searchEvents(parseQuery(q, ctx), { limit: 50 });
        times.push(performance.now() - t0);
        found = page.events.length;
      }
      times.sort((a, b) => a - b);
      const p = (x: number) => times[Math.min(times.length - 1, Math.floor(x * times.length))]!;
      rows.push(`| ${q} | ${found} | ${p(0.5).toFixed(2)} | ${p(0.99).toFixed(2)} |`);
    }
    store.close();
    sections.push(
      [
        `Search over ${n.toLocaleString('en')} events (${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.cpus().length} cores)${rate ? `; EventStore.insert (batched, synchronous=FULL) ran at ${Math.round(rate).toLocaleString('en')} events/s` : ' (store reused from .cache/bench)'}`,
        '',
        '| query | results (limit 50) | p50 ms | p99 ms |',
        '|---|---:|---:|---:|',
        ...rows,
      ].join('\n'),
    );
  }
  return sections.join('\n\n');
}
