// The station hub's PostgreSQL store on a real, throwaway PostgreSQL: it must answer every search exactly as the
// box's SQLite store answers it for the same events (a differential test over generated events), and write each
// batch of a box's changes all or nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeJson, EventJson, SearchFilter, TombstoneJson } from '../../src/contract/types.js';
import type { SearchPageOptions } from '../../src/contract/search.js';
import { parseConfig } from '../../src/config/load.js';
import { eventJson } from '../../src/events/event-json.js';
import { EventStore, type EventFields, type StoredEvent, mediaRoots } from '../../src/events/store.js';
import { attachmentPath } from '../../src/hub/attachment-path.js';
import { PG_SCHEMA_VERSION } from '../../src/hub/pg-migrations.js';
import { LOST_REASON, PgEventStore } from '../../src/hub/pg-store.js';
import type { ReplicaBatch } from '../../src/hub/replica-store.js';
import { parseQuery } from '../../src/search/query-parser.js';
import { placesFromConfig } from '../../src/search/search.js';
import { startPostgres, type ThrowawayPostgres } from '../harness/postgres.js';
import { seededRandom, testSeed } from '../harness/seeded-random.js';

const CONFIG = `data_dir: ./data
time_zone: Asia/Shanghai
bus: { publish: null }
cameras:
  - { name: market-east, url: rtsp://127.0.0.1:1/a, location: market, aliases: [集市, bazaar],
      zones: [{ name: crossing, aliases: [斑马线], polygon: [[0, 0.5], [1, 0.5], [1, 1], [0, 1]] }] }
  - { name: market-west, url: rtsp://127.0.0.1:1/b, location: market }
  - { name: school-gate, url: rtsp://127.0.0.1:1/c, location: school gate, aliases: [学校, 校门],
      zones: [{ name: entrance, aliases: [入口], polygon: [[0, 0], [1, 0], [1, 1], [0, 1]] }] }
  - { name: school-side, url: rtsp://127.0.0.1:1/d, location: school gate }
  - { name: station-north, url: rtsp://127.0.0.1:1/e, location: bus station, aliases: [车站],
      zones: [{ name: platform, aliases: [站台], polygon: [[0, 0], [1, 0], [1, 1], [0, 1]] }] }
  - { name: station-south, url: rtsp://127.0.0.1:1/f, location: bus station }
  - { name: river-bridge, url: rtsp://127.0.0.1:1/g, location: river, aliases: [河边],
      zones: [{ name: walkway, aliases: [人行道], polygon: [[0, 0], [1, 0], [1, 1], [0, 1]] }] }
  - { name: river-park, url: rtsp://127.0.0.1:1/h, location: river }
`;
const { config } = parseConfig(CONFIG, '/nonexistent/vigil.yaml');
const CAMERAS = config.cameras.map((c) => ({ name: c.name, location: c.location, zones: c.zones.map((z) => z.name) }));
const ctx = { now: new Date('2026-11-28T09:30:00Z'), timeZone: 'Asia/Shanghai', windowMinutes: 30, places: placesFromConfig(config) };
const NOW = ctx.now.getTime();
const DAY = 86_400_000;
const LABELS = ['person', 'car', 'truck', 'bus', 'motorcycle', 'bicycle'];
const COLOURS = ['red', 'orange', 'yellow', 'green', 'blue', 'white', 'grey', 'black'];
const PLATES = ['贵F12345', '贵F1234S', '贵A8S123', '贵A88888', '贵F8S123', '贵B99999', '贵C12845', '京A12345', '贵FD1234', '贵F7ABC2'];

let server: ThrowawayPostgres;
const seed = testSeed();

/** A fresh database on the throwaway server, by name. */
async function database(name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: server.url.replace(/\/vigil$/, '/postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return server.url.replace(/\/vigil$/, `/${name}`);
}

const hex = (random: () => number) => Array.from({ length: 64 }, () => '0123456789abcdef'[Math.floor(random() * 16)]).join('');

/** Generated events: every kind, label, colour part, plates with alternatives, null scores, equal starts, three months. */
function generateEvents(random: () => number, n: number, shas: string[], plates: readonly string[] = PLATES): EventFields[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const score = () => (random() < 0.12 ? null : Math.round((0.3 + random() * 0.7) * 1000) / 1000);
  const reading = () => ({ colour: pick(COLOURS), confidence: Math.round(random() * 100) / 100, ...(random() < 0.35 ? { alternative: pick(COLOURS) } : {}) });
  const snapshot = () => {
    const sha = random() < 0.2 && shas.length ? pick(shas) : hex(random);
    shas.push(sha);
    return { path: `snapshots/${sha.slice(0, 8)}.jpg`, sha256: sha, bytes: 20_000 + Math.floor(random() * 80_000) };
  };
  const events: EventFields[] = [];
  let previousStart = NOW - DAY;
  for (let i = 0; i < n; i++) {
    const cam = pick(CAMERAS);
    // Two in five in the last three days (today's and yesterday's searches), the rest back to mid September.
    let start = random() < 0.4 ? NOW - Math.floor(random() * 3 * DAY) : Date.parse('2026-09-12T00:00:00Z') + Math.floor(random() * 75 * DAY);
    start = Math.floor(start / 60_000) * 60_000 + (random() < 0.5 ? 0 : Math.floor(random() * 60) * 1000);
    if (random() < 0.08) start = previousStart; // the same start as another event
    previousStart = start;
    const r = random();
    const kind = r < 0.2 ? 'motion' : r < 0.75 ? 'object' : 'plate';
    const long = random() < 0.03;
    const end = random() < 0.04 ? null : start + (long ? 2 * 3600_000 + Math.floor(random() * 3 * 3600_000) : 1000 + Math.floor(random() * 600_000));
    const e: EventFields = { kind, camera: cam.name, location: cam.location, start, end, score: score() };
    if (cam.zones.length && random() < 0.35) e.zones = [cam.zones[0]!];
    if (random() < 0.7) e.box = [random() * 1000, random() * 700, random() * 300, random() * 300];
    if (random() < 0.3) e.path = [[start, Math.round(random() * 100) / 100, Math.round(random() * 100) / 100]];
    if (random() < 0.6) e.frame = snapshot();
    if (random() < 0.4) e.crop = snapshot();
    if (random() < 0.6) e.frameSize = [1920, 1080];
    if (kind === 'object') {
      e.label = pick(LABELS);
      const attributes: Record<string, unknown> = { track: `t${i}` };
      if (e.label === 'person') {
        if (random() < 0.8) attributes.upper_colour = reading();
        if (random() < 0.7) attributes.lower_colour = reading();
      } else if (e.label === 'motorcycle' || e.label === 'bicycle') {
        if (random() < 0.8) attributes.colour = reading();
        if (random() < 0.5) attributes.upper_colour = reading();
      } else if (random() < 0.85) attributes[random() < 0.5 ? 'colour' : 'vehicle_colour'] = reading();
      e.attributes = attributes;
    } else if (kind === 'plate') {
      e.label = pick(['car', 'truck', 'bus', 'motorcycle']);
      const plate: Record<string, unknown> = { text: pick(plates), confidence: Math.round(random() * 100) / 100, colour: 'blue' };
      if (random() < 0.3) plate.alternative = pick(plates);
      e.attributes = { plate, track: `t${i}` };
    } else if (random() < 0.5) e.score = null;
    events.push(e);
  }
  return events;
}

/** Replicates a SQLite store's changes after `cursor` into the hub, as the hub will: pages of /api/changes. */
async function replicate(box: EventStore, hub: PgEventStore, name: string, storeId: string, tombstones: TombstoneJson[] = []): Promise<{ lost: number; deleted: number }> {
  let cursor = await hub.cursor(name);
  let lost = 0;
  let deleted = 0;
  for (;;) {
    const page = box.since(cursor.lastSeq, 500);
    const changes: ChangeJson[] = page.map(eventJson);
    const last = page.at(-1)?.seq ?? cursor.lastSeq;
    const final = page.length < 500;
    if (final) changes.push(...tombstones.filter((t) => t.seq > cursor.lastSeq));
    const lastSeq = Math.max(last, ...changes.map((c) => c.seq));
    if (changes.length === 0) break;
    const batch: ReplicaBatch = { box: name, storeId, changes, lastSeq, gaps: [], attachments: [] };
    const applied = await hub.apply(batch, cursor);
    lost += applied.lost;
    deleted += applied.deleted;
    cursor = { storeId, lastSeq };
    if (final) break;
  }
  return { lost, deleted };
}

beforeAll(async () => {
  server = await startPostgres();
}, 60_000);

afterAll(async () => {
  await server?.remove();
});

describe('the hub answers searches exactly as the box does', () => {
  let box: EventStore;
  let hub: PgEventStore;
  let dir: string;
  const shas: string[] = [];

  beforeAll(async () => {
    console.log(`hub-store: seed ${seed} (VIGIL_SEED=${seed} replays it)`);
    const random = seededRandom(seed);
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-hub-store-'));
    box = EventStore.open(path.join(dir, 'data'), { flushMs: 1 });
    hub = await PgEventStore.open(server.url);
    const stored = await Promise.all(generateEvents(random, 1500, shas).map((e) => box.insert(e)));
    await replicate(box, hub, 'north', 'store-north-1');
    expect(await hub.countEvents('north')).toBe(1500);
    // Then the box changes: tracks end, colours are read again, zones entered; and new events, a few old ones.
    const updates = stored.filter(() => random() < 0.1);
    await Promise.all(updates.map((e, i) => box.update(e.id, i % 3 === 0 ? { end: e.start + 5000, score: 0.5 } : i % 3 === 1 ? { attributes: { colour: { colour: 'white', confidence: 0.6, alternative: 'grey' } } } : { zones: ['crossing'], label: 'car' })));
    const more = generateEvents(random, 60, shas).map((e, i) => (i % 4 === 0 ? { ...e, start: Date.parse('2026-09-13T03:00:00Z') + i * 60_000, end: Date.parse('2026-09-13T03:00:30Z') + i * 60_000 } : e));
    await Promise.all(more.map((e) => box.insert(e)));
    // The oldest are erased on the box: some the hub had (their tombstones delete them), some it never read.
    const before = box.since(0, 100_000).map((e) => e.id);
    const removed = box.enforceRetention(Date.parse('2026-09-16T00:00:00Z'), 1e12, mediaRoots(dir)).events;
    const gone = before.filter((id) => box.get(id) === undefined);
    expect(gone.length).toBe(removed);
    expect(removed).toBeGreaterThan(10);
    let seq = box.since(0, 100_000).reduce((m, e) => Math.max(m, e.seq), 0);
    const tombstones: TombstoneJson[] = gone.map((id) => ({ seq: ++seq, id, deleted: true, deleted_at: new Date(NOW).toISOString(), reason: 'erased' }));
    const t0 = performance.now();
    const { lost, deleted } = await replicate(box, hub, 'north', 'store-north-1', tombstones);
    console.log(`hub-store: second replication in ${Math.round(performance.now() - t0)} ms; ${deleted} deleted, ${lost} lost`);
    expect(lost).toBeGreaterThan(0);
    expect(deleted + lost).toBe(gone.length);
    expect(await hub.countEvents('north')).toBe(box.count());
    // Plates read again, erased and rewritten: the plate table the full-plate search uses is still in step.
    expect(await platesOutOfStep(server.url)).toBe(0);
  }, 60_000);

  afterAll(async () => {
    box?.close();
    await hub?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const text = [
    'red motorbike', 'red motorbike at market 14:00', 'person in red', 'red trousers', 'white car', 'silver car', 'black car', 'blue car',
    'car', 'truck', 'bus', 'bicycle', 'person', 'motorbike', 'people yesterday', 'car yesterday evening', 'person near school yesterday evening',
    'market', 'school', 'bus station', 'river', 'crossing', 'entrance', 'platform', 'walkway', 'market-east', 'station-north', 'last 2 hours',
    'today', 'yesterday', '14:00', '2pm yesterday', 'this morning', 'motion', 'motion at market', 'plates', 'plate yesterday', '贵F12345',
    '贵A8S123', '12345', 'F12*4', '贵F·12', '8S1', '贵F', 'white truck at station', 'person in white shirt', 'person black pants', 'yellow car',
    'green bike', 'white car 2026-11-27', 'car 2026-10-15', 'person 2026-09-20', 'motion 2026-09-16',
    '集市 红色摩托车 下午两点', '穿红衣服的人', '斑马线', '白色轿车', '银色轿车', '昨天 行人', '学校 昨天晚上', '车站 货车', '河边 自行车',
    '今天上午 汽车', '车牌 贵F12345', '昨天下午三点 汽车', '黑色汽车 今天', '蓝色 公交车', '站台 下午', '人行道 行人', '入口 昨天',
  ];
  const base: SearchFilter = { kinds: [], labels: [], colours: [], places: [], time: null, plate: null, unknown: [] };
  const iso = (ms: number) => new Date(ms).toISOString();
  const built: Array<[string, SearchFilter, Partial<SearchPageOptions>?]> = [
    ['everything, newest first', base],
    ['white cars, any part', { ...base, kinds: ['object', 'plate'], labels: ['car'], colours: [{ colour: 'white', part: 'any' }] }],
    ['upper red, lower blue people', { ...base, labels: ['person'], colours: [{ colour: 'red', part: 'upper' }, { colour: 'blue', part: 'lower' }] }],
    ['a zone on another camera', { ...base, places: [{ kind: 'zone', name: 'crossing', camera: 'school-gate' }] }],
    ['camera or location', { ...base, places: [{ kind: 'camera', name: 'river-park' }, { kind: 'location', name: 'market' }, { kind: 'zone', name: 'platform', camera: 'station-north' }] }],
    ['fragment with ?', { ...base, plate: 'F1?34' }],
    ['fragment with GLOB-literal _', { ...base, plate: '12_4' }],
    ['fragment with %', { ...base, plate: '1%5' }],
    ['lower-case fragment', { ...base, plate: 'f12' }],
    ['a Latin-only full plate', { ...base, plate: 'A8S123' }],
    ['wildcards inside', { ...base, plate: '贵*3*' }],
    ['motion only', { ...base, kinds: ['motion'] }],
    ['an hour around, long events included', { ...base, time: { from: iso(NOW - DAY), to: iso(NOW - DAY + 3600_000), around: iso(NOW - DAY + 1800_000) } }],
    ['the same, newest first', { ...base, time: { from: iso(NOW - DAY), to: iso(NOW - DAY + 3600_000), around: iso(NOW - DAY + 1800_000) } }, { order: 'newest' }],
    ['a span without around', { ...base, time: { from: iso(NOW - 2 * DAY), to: iso(NOW) } }],
    ['around with ties on start and null scores', { ...base, time: { from: iso(NOW - 3 * DAY), to: iso(NOW), around: iso(NOW - DAY) } }],
    ['October trucks near noon', { ...base, labels: ['truck'], time: { from: '2026-10-01T00:00:00Z', to: '2026-11-01T00:00:00Z', around: '2026-10-15T04:00:00Z' } }],
    ['kinds and labels', { ...base, kinds: ['plate'], labels: ['bus', 'motorcycle'] }],
  ];
  const cases: Array<[string, SearchFilter, Partial<SearchPageOptions>?]> = [...text.map((q): [string, SearchFilter] => [q, parseQuery(q, ctx)]), ...built];

  /** An event as both stores hold it, but where the hub may differ: its id, box, and where a picture is kept. */
  const comparable = (e: StoredEvent) => {
    const { id: _id, boxName: _b, boxId: _bi, ...rest } = e;
    const ref = (r: StoredEvent['frame']) => (r ? { path: attachmentPath(r.sha256), sha256: r.sha256, bytes: r.bytes } : null);
    return { ...rest, frame: ref(e.frame), crop: ref(e.crop) };
  };

  it(`returns the same events in the same order over three pages, for ${cases.length} searches`, async () => {
    expect(cases.length).toBeGreaterThanOrEqual(50);
    let nonEmpty = 0;
    let compared = 0;
    for (const [name, filter, extra] of cases) {
      let cursor: string | undefined;
      let any = false;
      for (let page = 0; page < 3; page++) {
        const options: SearchPageOptions = { limit: 20, cursor, ...extra };
        const expected = box.searchEvents(filter, options);
        const got = await hub.searchEvents(filter, options);
        expect(got.events.map((e) => e.boxId), `${name}, page ${page + 1}: ${JSON.stringify(filter)}`).toEqual(expected.events.map((e) => e.id));
        expect(got.next, `${name}, page ${page + 1}: next`).toEqual(expected.next);
        expect(got.events.every((e) => e.boxName === 'north')).toBe(true);
        for (let i = 0; i < got.events.length; i++) {
          expect(comparable(got.events[i]!), `${name}: event ${expected.events[i]!.id}`).toEqual(comparable(expected.events[i]!));
          compared++;
        }
        any ||= got.events.length > 0;
        if (!expected.next) break;
        cursor = expected.next;
      }
      if (any) nonEmpty++;
    }
    console.log(`hub-store: ${cases.length} searches, ${nonEmpty} with results, ${compared} events compared field by field`);
    expect(nonEmpty).toBeGreaterThanOrEqual(40);
    await expect(hub.searchEvents(base, { limit: 20, cursor: 'garbage' })).rejects.toThrow('invalid cursor');
  });

  it('answers get, the cameras page and the camera list', async () => {
    const [e] = (await hub.searchEvents(base, { limit: 1 })).events;
    expect(await hub.get(e!.id)).toEqual(e);
    expect(await hub.get(-1)).toBeUndefined();
    expect(await hub.countByCamera(NOW - DAY)).toEqual(box.countByCamera(NOW - DAY));
    for (const c of CAMERAS) expect(await hub.lastObjectAt(c.name), c.name).toEqual(box.lastObjectAt(c.name));
    expect(await hub.lastObjectAt('nowhere')).toBeUndefined();
    expect((await hub.cameras()).map((c) => c.camera)).toEqual(CAMERAS.map((c) => c.name).sort());
  });

  it('writes thousands of events a second and plans plate fragments and camera-and-time searches on indexes', async () => {
    // A second box's week, in batches as the hub reads them: apply's throughput, roughly.
    const random = seededRandom(seed + 1);
    // A real street's plates: thousands of different ones, so a fragment is rare (as officers' fragments are).
    const body = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';
    const many = Array.from({ length: 3000 }, () => `贵${'ABCDEFGHJ'[Math.floor(random() * 9)]}${Array.from({ length: 5 }, () => body[Math.floor(random() * body.length)]).join('')}`);
    const south = generateEvents(random, 6000, [], many).map((e, i) => ({ ...e, start: Date.parse('2026-09-12T00:00:00Z') + i * 1_080_000 })); // every 18 minutes, over the three months
    const changes: EventJson[] = south.map((e, i) => eventJson({ id: i + 1, seq: i + 1, label: null, score: null, end: null, box: null, path: null, zones: [], attributes: {}, frame: null, crop: null, frameSize: null, clips: [], ...e, updated: NOW } as StoredEvent));
    let cursor = await hub.cursor('south');
    const t0 = performance.now();
    for (let i = 0; i < changes.length; i += 500) {
      const batch: ReplicaBatch = { box: 'south', storeId: 's1', changes: changes.slice(i, i + 500), lastSeq: Math.min(i + 500, changes.length), gaps: [], attachments: [] };
      const applied = await hub.apply(batch, cursor);
      expect(applied.inserted).toBe(batch.changes.length);
      cursor = { storeId: 's1', lastSeq: batch.lastSeq };
    }
    const ms = performance.now() - t0;
    console.log(`hub-store: apply wrote ${changes.length} events in ${Math.round(ms)} ms: ${Math.round((changes.length / ms) * 1000)} events/s (batches of 500)`);
    expect(await hub.countEvents('south')).toBe(6000);

    const pool = new pg.Client(server.url);
    await pool.connect();
    await pool.query('ANALYZE events');
    await pool.end();
    const fragment = many[7]!.slice(2, 6);
    const shapes: Array<[string, SearchFilter]> = [
      ['plate fragment', { ...base, plate: fragment }],
      ['plate fragment with a wildcard', { ...base, plate: `${many[9]!.slice(1, 4)}*${many[9]!.slice(5, 7)}` }],
      ['plate fragment, Chinese', { ...base, plate: many[11]!.slice(0, 5) }],
      ['camera and time', parseQuery('market-east yesterday 14:00', ctx)],
      ['camera and a day', { ...base, places: [{ kind: 'camera', name: 'school-gate' }], time: { from: iso(NOW - 2 * DAY), to: iso(NOW - DAY) } }],
    ];
    for (const [name, filter] of shapes) {
      const plan = await hub.explainSearch(filter, { limit: 20 });
      if (process.env.VIGIL_SHOW_PLANS) console.log(`${name}:\n${plan.join("\n")}`);
      expect(plan.filter((l) => /Seq Scan on events/.test(l)), `${name}:\n${plan.join('\n')}`).toEqual([]);
      // A fragment through the trigram index, not a walk of every event in time order.
      const index = name.startsWith('plate') ? /Bitmap Index Scan on events_p\d+_plate_text_idx/ : /Index Scan.* on events_p\d+_camera_start_ms_idx/;
      expect(plan.some((l) => index.test(l)), `${name}:\n${plan.join('\n')}`).toBe(true);
    }
  });
});

/** A replicated event, made up: the box's id, its start. */
function eventAt(id: number, start: string, extra: Partial<EventJson> = {}): EventJson {
  return {
    seq: id, id, kind: 'object', camera: 'market-east', location: 'market', label: 'car', score: 0.9, start, end: start, zones: [],
    attributes: { colour: { colour: 'white', confidence: 0.8 } }, box: null, path: null, frame_size: null, snapshots: { frame: null, crop: null },
    updated: start, ...extra,
  };
}
const batchOf = (changes: ChangeJson[], lastSeq: number, extra: Partial<ReplicaBatch> = {}): ReplicaBatch => ({ box: 'north', storeId: 'st1', changes, lastSeq, gaps: [], attachments: [], ...extra });

describe('apply', () => {
  let hub: PgEventStore;
  beforeAll(async () => {
    hub = await PgEventStore.open(await database('atomic'));
  });
  afterAll(() => hub?.close());

  it('writes a batch all or nothing, refuses a stale cursor, and replays without doubling', async () => {
    expect(await hub.cursor('north')).toEqual({ storeId: null, lastSeq: 0 });
    const good = [eventAt(1, '2026-11-01T10:00:00.000Z'), eventAt(2, '2026-12-01T10:00:00.000Z'), eventAt(3, '2026-11-02T10:00:00.000Z')];
    const bad = { ...eventAt(4, '2026-11-03T10:00:00.000Z'), kind: 'rocket' } as unknown as EventJson;
    const sha = 'ab'.repeat(32);
    await expect(hub.apply(batchOf([...good, bad], 4, { attachments: [{ sha256: sha, bytes: 5, state: 'stored' }], gaps: [{ fromSeq: 1, toSeq: 1, reason: 'x' }] }), { storeId: null, lastSeq: 0 })).rejects.toThrow(/check constraint/);
    expect(await hub.countEvents()).toBe(0);
    expect(await hub.cursor('north')).toEqual({ storeId: null, lastSeq: 0 });
    expect(await hub.attachment(sha)).toBeUndefined();
    expect(await hub.gaps()).toEqual([]);

    const first = batchOf(good, 3, { attachments: [{ sha256: sha, bytes: 5, state: 'missing' }, { sha256: sha, bytes: 5, state: 'stored' }] });
    const applied = await hub.apply(first, { storeId: null, lastSeq: 0 });
    expect(applied).toMatchObject({ inserted: 3, updated: 0, deleted: 0, lost: 0 });
    expect(applied.committedAt).toBeGreaterThan(Date.now() - 60_000);
    expect(await hub.cursor('north')).toEqual({ storeId: 'st1', lastSeq: 3 });
    expect(await hub.attachment(sha)).toEqual({ sha256: sha, bytes: 5, state: 'stored' });
    // Another writer read the old cursor: refused, naming the box.
    await expect(hub.apply(batchOf([eventAt(5, '2026-11-05T10:00:00.000Z')], 5), { storeId: null, lastSeq: 0 })).rejects.toThrow(/box north/);
    await expect(hub.apply(batchOf([eventAt(5, '2026-11-05T10:00:00.000Z')], 5), { storeId: 'st0', lastSeq: 3 })).rejects.toThrow(/box north/);
    expect(await hub.countEvents()).toBe(3);
    // The same batch again (a hub that died before it heard the commit): nothing doubles, nothing changes.
    const again = await hub.apply({ ...first, attachments: [{ sha256: sha, bytes: 5, state: 'missing' }] }, { storeId: 'st1', lastSeq: 3 });
    expect(again).toMatchObject({ inserted: 0, updated: 0, deleted: 0, lost: 0 });
    expect(await hub.countEvents()).toBe(3);
    expect((await hub.attachment(sha))?.state).toBe('stored');
    // A newer version of an event replaces it.
    const newer = await hub.apply(batchOf([{ ...eventAt(1, '2026-11-01T10:00:00.000Z'), seq: 4, label: 'truck' }], 4), { storeId: 'st1', lastSeq: 3 });
    expect(newer).toMatchObject({ inserted: 0, updated: 1 });
    const truck = (await hub.searchEvents({ kinds: [], labels: ['bus'], colours: [], places: [], time: null, plate: null, unknown: [] }, { limit: 5 })).events;
    expect(truck).toEqual([]);
    const all = (await hub.searchEvents({ kinds: [], labels: [], colours: [], places: [], time: null, plate: null, unknown: [] }, { limit: 5 })).events;
    expect(all.map((e) => [e.boxId, e.label, e.seq])).toEqual([[2, 'car', 2], [3, 'car', 3], [1, 'truck', 4]]);
    expect(new Set(all.map((e) => e.id)).size).toBe(3);
    expect(await hub.get(all[0]!.id)).toEqual(all[0]);
  });

  it('deletes on a tombstone, and counts a tombstone for an event it never had as lost, with a gap', async () => {
    const cur = await hub.cursor('north');
    const t = (seq: number, id: number): TombstoneJson => ({ seq, id, deleted: true, deleted_at: '2026-11-28T00:00:00.000Z' });
    const applied = await hub.apply(batchOf([t(5, 2), t(6, 777)], 6, { gaps: [{ fromSeq: 100, toSeq: 120, reason: 'pruned on the box' }] }), cur);
    expect(applied).toMatchObject({ inserted: 0, updated: 0, deleted: 1, lost: 1 });
    expect(await hub.countEvents('north')).toBe(2);
    const gaps = await hub.gaps('north');
    expect(gaps.map(({ recordedAt: _r, ...g }) => g).sort((a, b) => a.fromSeq - b.fromSeq)).toEqual([
      { box: 'north', fromSeq: 6, toSeq: 6, reason: LOST_REASON },
      { box: 'north', fromSeq: 100, toSeq: 120, reason: 'pruned on the box' },
    ]);
    expect(await hub.gaps('elsewhere')).toEqual([]);
    // Written and deleted within one batch: neither kept nor lost.
    const within = await hub.apply(batchOf([eventAt(9, '2026-11-09T10:00:00.000Z', { seq: 7 }), t(8, 9)], 8), { storeId: 'st1', lastSeq: 6 });
    expect(within).toMatchObject({ inserted: 0, lost: 0 });
    expect(await hub.countEvents('north')).toBe(2);
  });

  it('keeps its copy when the box deletes an event to make room, and counts one it never had as lost', async () => {
    const cur = await hub.cursor('north');
    const held = (await hub.searchEvents({ kinds: [], labels: [], colours: [], places: [], time: null, plate: null, unknown: [] }, { limit: 10 })).events.map((e) => e.boxId!);
    expect(held.length).toBe(2);
    const retention = (seq: number, id: number): TombstoneJson => ({ seq, id, deleted: true, deleted_at: '2026-11-29T00:00:00.000Z', reason: 'retention' });
    const applied = await hub.apply(batchOf([retention(cur.lastSeq + 1, held[0]!), retention(cur.lastSeq + 2, 4242)], cur.lastSeq + 2), cur);
    expect(applied).toMatchObject({ deleted: 0, lost: 1 });
    expect(await hub.countEvents('north')).toBe(2);
    expect((await hub.gaps('north')).some((g) => g.fromSeq === cur.lastSeq + 2 && g.reason === LOST_REASON)).toBe(true);
  });
});

describe('schema', () => {
  it('partitions by month, migrates once, and refuses a newer schema', async () => {
    const url = await database('parts');
    const hub = await PgEventStore.open(url);
    await hub.apply(batchOf([eventAt(1, '2026-09-30T23:59:59.999Z'), eventAt(2, '2026-10-01T00:00:00.000Z'), eventAt(3, '2026-11-15T00:00:00.000Z'), eventAt(4, '2026-11-16T00:00:00.000Z')], 4), { storeId: null, lastSeq: 0 });
    expect((await hub.partitions()).map((p) => p.name)).toEqual(['events_p202609', 'events_p202610', 'events_p202611']);
    const c = new pg.Client(url);
    await c.connect();
    try {
      const inherits = await c.query("SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'events'::regclass");
      expect(inherits.rows[0].n).toBe(3);
      const before = (await c.query('SELECT version, applied_at FROM schema_migrations ORDER BY version')).rows;
      expect(before.map((r) => r.version)).toEqual(Array.from({ length: PG_SCHEMA_VERSION }, (_, i) => i + 1));
      const second = await PgEventStore.open(url);
      expect((await c.query('SELECT version, applied_at FROM schema_migrations ORDER BY version')).rows).toEqual(before);
      expect(await second.countEvents()).toBe(4);
      await second.close();
      await c.query("INSERT INTO schema_migrations (version, name) VALUES ($1, 'from the future')", [PG_SCHEMA_VERSION + 1]);
      const refused = await PgEventStore.open(url).then(() => 'opened', (err: Error) => err.message);
      expect(refused).toMatch(/newer than this vigil knows/);
      expect(refused).toContain(`127.0.0.1:${server.port}/parts`);
    } finally {
      await c.end();
      await hub.close();
    }
    const withPassword = server.url.replace('postgres@', 'postgres:s3cret@').replace(/\/vigil$/, '/missing_db');
    const failed = await PgEventStore.open(withPassword).then(() => 'opened', (err: Error) => err.message);
    expect(failed).toMatch(/missing_db/);
    expect(failed).toMatch(/does not exist/);
    expect(failed).not.toContain('s3cret');
  });
});

/** Rows of the plate table and of the events' plate columns that do not match each other (0 when in step). */
async function platesOutOfStep(url: string): Promise<number> {
  const c = new pg.Client(url);
  await c.connect();
  try {
    const { rows } = await c.query<{ n: string }>(`SELECT count(*) AS n FROM (
      (SELECT value, box_name, box_id, start_ms FROM event_plates
       EXCEPT SELECT v, box_name, box_id, start_ms FROM events, unnest(ARRAY[plate_text, plate_alt]) AS v WHERE v IS NOT NULL)
      UNION ALL
      (SELECT v, box_name, box_id, start_ms FROM events, unnest(ARRAY[plate_text, plate_alt]) AS v WHERE v IS NOT NULL
       EXCEPT SELECT value, box_name, box_id, start_ms FROM event_plates)) d`);
    return Number(rows[0]!.n);
  } finally {
    await c.end();
  }
}

describe('retention', () => {
  it('drops old months whole, trims the boundary month, and hands back the attachments nothing uses', async () => {
    const url = await database('retention');
    const hub = await PgEventStore.open(url);
    try {
      const sha = (c: string) => c.repeat(64);
      const snap = (s: string) => ({ frame: { path: 'x.jpg', sha256: s, bytes: 1000 }, crop: null });
      const plate = (text: string) => ({ attributes: { plate: { text, confidence: 0.9, alternative: `${text.slice(0, -1)}8` } } });
      const events = [
        eventAt(1, '2026-08-05T10:00:00.000Z', { snapshots: snap(sha('a')), ...plate('贵A11111') }),
        eventAt(2, '2026-09-05T10:00:00.000Z', { snapshots: snap(sha('b')) }),
        eventAt(3, '2026-09-06T10:00:00.000Z', { snapshots: snap(sha('c')) }),
        eventAt(4, '2026-10-05T10:00:00.000Z', { snapshots: snap(sha('d')), ...plate('贵A44444') }),
        eventAt(5, '2026-10-20T10:00:00.000Z', { snapshots: snap(sha('c')) }),
        eventAt(6, '2026-11-05T10:00:00.000Z', { snapshots: snap(sha('e')), ...plate('贵A66666') }),
        // Began in October, still going after the cutoff: October stays, and so does this event.
        eventAt(7, '2026-10-09T23:00:00.000Z', { end: '2026-10-10T02:00:00.000Z' }),
      ];
      const attachments = ['a', 'b', 'c', 'd', 'e'].map((c) => ({ sha256: sha(c), bytes: 1000, state: 'stored' as const }));
      await hub.apply(batchOf(events, 7, { attachments }), { storeId: null, lastSeq: 0 });
      expect((await hub.partitions()).length).toBe(4);
      const result = await hub.enforceRetention(Date.parse('2026-10-10T00:00:00Z'), 1e15, 0);
      expect(result).toEqual({ deleted: 4, orphanAttachments: [sha('a'), sha('b'), sha('d')] });
      expect((await hub.partitions()).map((p) => p.name)).toEqual(['events_p202610', 'events_p202611']);
      expect(await hub.attachment(sha('c'))).toBeDefined();
      expect(await hub.attachment(sha('a'))).toBeUndefined();
      expect(await hub.countEvents()).toBe(3);
      // The plate table follows: the dropped month's plates (no trigger fires for a dropped partition) and the
      // trimmed month's (a delete trigger) are gone, the kept event's are found.
      expect(await platesOutOfStep(url)).toBe(0);
      const found = async (text: string) => (await hub.searchEvents({ kinds: [], labels: [], colours: [], places: [], time: null, plate: text, unknown: [] }, { limit: 10 })).events.map((e) => e.boxId);
      expect(await found('贵A66666')).toEqual([6]);
      expect(await found('贵A66668')).toEqual([6]);
      expect(await found('贵A11111')).toEqual([]);
      // Over budget: the oldest ended events go until the estimate fits.
      const bytes = await hub.databaseBytes();
      const budget = await hub.enforceRetention(0, bytes + 2000 - 1, 2000);
      expect(budget.deleted).toBeGreaterThanOrEqual(1);
      expect(await hub.countEvents()).toBe(3 - budget.deleted);
      expect(await platesOutOfStep(url)).toBe(0);
    } finally {
      await hub.close();
    }
  });
});

describe('a crash of the server', () => {
  it('keeps every committed batch and its cursor', async () => {
    const url = await database('crash');
    let hub = await PgEventStore.open(url, { max: 2 });
    await hub.apply(batchOf([eventAt(1, '2026-11-01T10:00:00.000Z'), eventAt(2, '2026-11-02T10:00:00.000Z')], 2), { storeId: null, lastSeq: 0 });
    await server.stop('immediate');
    await hub.close().catch(() => undefined);
    await server.start();
    hub = await PgEventStore.open(url);
    try {
      expect(await hub.countEvents('north')).toBe(2);
      expect(await hub.cursor('north')).toEqual({ storeId: 'st1', lastSeq: 2 });
    } finally {
      await hub.close();
    }
  });
});
