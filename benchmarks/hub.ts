// The station hub (issue 16), measured on this machine against a throwaway PostgreSQL (test/harness/postgres.ts):
// 1. replication throughput: a real box store (SQLite, N events like the search bench's) served by the box's own
//    HTTP routes (buildApi with the replication routes, in this process) and a BoxReplicator pulling it into a fresh
//    PostgreSQL database through /api/changes, batch 500 and 2000; and PgEventStore.apply alone for comparison;
// 2. replication lag at a busy town's event rate (and a burst 10× that), with the box's ZeroMQ bus and without it
//    (poll_s 0.5): per event, the hub's commit minus the box's commit, as the replicator reports it to HubMetrics;
// 3. the search bench's 20 query shapes over 10M events of 116 cameras in PostgreSQL, bulk-loaded into the schema
//    the migrations create (the same events, same ids, as the search bench's SQLite store of that size), side by
//    side with the same shapes on that SQLite store, parse + plan + database as the API runs them;
// 4. what one hub holds: the database's bytes per million events.
// Needs PostgreSQL's server binaries (scripts/install-postgres.sh). Not in `npm run bench`'s default set: it takes
// ~15 minutes at 10M events once the search bench's 10M SQLite store is cached (~30 without it) and a PostgreSQL server; run it as `npm run bench -- hub [--events N]`.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { Registry } from 'prom-client';
import { ApiAuth } from '../src/api/auth.js';
import { buildApi } from '../src/api/server.js';
import { AuditLog } from '../src/audit/audit-log.js';
import { EventBus } from '../src/bus/event-bus.js';
import type { ChangeJson } from '../src/contract/types.js';
import { eventJson } from '../src/events/event-json.js';
import { SnapshotWriter } from '../src/events/snapshots.js';
import { EventStore } from '../src/events/store.js';
import { AttachmentStore } from '../src/hub/attachment-store.js';
import { BoxClient } from '../src/hub/box-client.js';
import { BoxReplicator } from '../src/hub/box-replicator.js';
import { HubMetrics } from '../src/hub/hub-metrics.js';
import { PgEventStore, searchableAttributes } from '../src/hub/pg-store.js';
import type { BoxCursor } from '../src/hub/replica-store.js';
import { parseQuery } from '../src/search/query-parser.js';
import { SearchService } from '../src/search/search-service.js';
import { startPostgres, type ThrowawayPostgres } from '../test/harness/postgres.js';
import { buildStore, event, QUERIES, rng, searchContext } from './search.js';

export interface HubBenchmarkOptions {
  /** Events in PostgreSQL (and SQLite) for the search shapes. */
  events: number;
  /** Events in the box store the throughput test replicates. */
  boxEvents: number;
  /** Seconds the writer runs in each lag test. */
  lagSeconds: number;
  /** Timed runs per search shape (after one untimed run). */
  runs: number;
}

const TOKEN = 'hub-bench-replicate-token-0123';
const CAMERAS = Array.from({ length: 116 }, (_, i) => `cam-${String(i + 1).padStart(3, '0')}`);
const TARGET = { throughput: 5000, lagP95S: 2, searchP99Ms: 30 };
/** A busy town: 116 cameras, about one committed event per camera every 10 s; a burst is 10× that. */
const TOWN_RATE = Math.round(116 / 10);

const logger = pino({ level: 'warn' }, pino.destination(2));
const fmt = (n: number, digits = 0) => n.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const quantile = (sorted: number[], q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : Number.NaN);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

function cpuModel(): string {
  try {
    return /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  } catch {
    return os.cpus()[0]?.model ?? 'unknown';
  }
}

const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' / ');

/** A fresh database in the throwaway cluster; its URL. */
async function createDatabase(server: ThrowawayPostgres, name: string): Promise<string> {
  const admin = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres' });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return `postgres://postgres@127.0.0.1:${server.port}/${name}`;
}

/** HubMetrics that also keeps every lag it is told of, to compute exact quantiles (the histogram's buckets are coarse). */
class RecordingMetrics extends HubMetrics {
  readonly lags: number[] = [];
  viaBus = 0;
  viaBackfill = 0;

  override replicated(box: string, changes: number, viaBackfill: boolean, lagsS: number[]): void {
    super.replicated(box, changes, viaBackfill, lagsS);
    this.lags.push(...lagsS);
    if (viaBackfill) this.viaBackfill += changes;
    else this.viaBus += changes;
  }
}

interface Box {
  store: EventStore;
  address: string;
  close(): Promise<void>;
}

/** A box: its event store and its HTTP API with the replication routes (what a daemon serves), on loopback. */
async function startBox(dir: string, bus?: EventBus): Promise<Box> {
  const store = EventStore.open(dir, { flushMs: 100, batchSize: 5000 });
  if (bus) store.onCommit((events) => bus.publish(events));
  const audit = new AuditLog(dir);
  const snapshots = new SnapshotWriter(path.join(dir, 'snapshots'));
  const ctx = searchContext();
  const site = { timeZone: ctx.timeZone, places: ctx.places, placeNames: {}, windowMinutes: 30, quietCameraMinutes: 60 };
  const auth = new ApiAuth([{ name: 'hub', token: TOKEN, scopes: ['replicate'] }], { audit, dataDir: dir, failuresPerMinute: () => 10_000 });
  const registry = new Registry();
  const api = await buildApi({
    metrics: { registry, text: () => registry.metrics() },
    cameras: () => [],
    logger,
    version: 'bench',
    startedAt: Date.now(),
    allowedHosts: () => null,
    trustedProxies: [],
    limits: { maxConnections: 100, maxConnectionsPerClient: 20, requestTimeoutS: 30 },
    search: {
      store,
      search: new SearchService(store, audit, () => site),
      snapshots,
      audit,
      auth,
      version: 'bench',
      web: false,
      labels: [],
      timeZone: () => site.timeZone,
      site: () => site,
      cameraRoutes: () => undefined,
      replication: {
        store,
        snapshots,
        audit,
        status: async () => ({ version: 'bench', time_zone: site.timeZone, live: false, labels: [], places: site.places, place_names: {}, cameras: [] }),
      },
    },
  });
  const address = await api.listen({ host: '127.0.0.1', port: 0 });
  return {
    store,
    address,
    close: async () => {
      await api.close();
      store.close();
    },
  };
}

/** A hub's replicator of one box into `store` (as src/hub.ts builds it). */
function replicator(box: Box, store: PgEventStore, dir: string, metrics: HubMetrics, settings: { batch: number; pollMs: number; bus?: string }): BoxReplicator {
  const config = { name: 'box-1', url: box.address, token: TOKEN, bus: settings.bus ? { endpoint: settings.bus, server_key: null } : null };
  metrics.addBox('box-1', () => r.state());
  const r = new BoxReplicator(config, new BoxClient(config, 15_000), {
    store,
    attachments: new AttachmentStore(dir),
    metrics,
    logger,
    settings: () => ({ pollMs: settings.pollMs, batch: settings.batch, backoffMaxMs: 2000, statusMs: 60_000 }),
    curve: null,
  });
  return r;
}

/** Waits until the hub's cursor for box-1 reaches `seq`. */
async function caughtUp(store: PgEventStore, seq: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while ((await store.cursor('box-1')).lastSeq < seq) {
    if (Date.now() > until) throw new Error(`the hub did not reach seq ${seq} within ${timeoutMs / 1000} s (at ${(await store.cursor('box-1')).lastSeq})`);
    await sleep(20);
  }
}

async function throughput(server: ThrowawayPostgres, root: string, n: number): Promise<string> {
  const boxDir = path.join(root, 'box-throughput');
  let box = await startBox(boxDir);
  const r = rng(7);
  const t0 = performance.now();
  for (let i = 0; i < n; i += 5000) await Promise.all(Array.from({ length: Math.min(5000, n - i) }, (_, k) => box.store.insert(event(r, i + k))));
  const boxBuildS = (performance.now() - t0) / 1000;
  const last = box.store.lastCommittedSeq;
  // The box as a restarted daemon finds it: its SQLite file on disk, a fresh process's caches aside.
  await box.close();
  box = await startBox(boxDir);
  const rows: string[] = [];
  try {
    for (const batch of [500, 2000]) {
      const url = await createDatabase(server, `throughput_${batch}`);
      const store = await PgEventStore.open(url, { max: 4 });
      const rep = replicator(box, store, path.join(root, `hub-tp-${batch}`), new HubMetrics(), { batch, pollMs: 500 });
      const s0 = performance.now();
      rep.start();
      await caughtUp(store, last, 30 * 60_000);
      const s = (performance.now() - s0) / 1000;
      await rep.stop();
      const held = await store.countEvents();
      await store.close();
      if (held !== n) throw new Error(`throughput (batch ${batch}): the hub holds ${held} events, the box ${n}`);
      rows.push(`| backfill: box /api/changes → BoxReplicator → PgEventStore.apply | ${batch} | ${fmt(n)} | ${s.toFixed(1)} | **${fmt(n / s)}** | ≥ ${fmt(TARGET.throughput)} | ${n / s >= TARGET.throughput ? 'yes' : '**no**'} |`);
    }
    // apply alone: the same changes, read from the box store beforehand, one transaction a batch.
    const changes: ChangeJson[] = [];
    for (let after = 0; after < last; ) {
      const page = box.store.changes(after, 2000);
      if (page.length === 0) break;
      for (const c of page) if ('event' in c) changes.push(eventJson(c.event));
      const tail = page.at(-1)!;
      after = 'event' in tail ? tail.event.seq : tail.tombstone.seq;
    }
    for (const batch of [500, 2000]) {
      const url = await createDatabase(server, `apply_${batch}`);
      const store = await PgEventStore.open(url, { max: 4 });
      let cursor: BoxCursor = { storeId: null, lastSeq: 0 };
      const s0 = performance.now();
      for (let i = 0; i < changes.length; i += batch) {
        const chunk = changes.slice(i, i + batch);
        const lastSeq = chunk.at(-1)!.seq;
        await store.apply({ box: 'box-1', storeId: box.store.storeId, changes: chunk, lastSeq, gaps: [], attachments: [] }, cursor);
        cursor = { storeId: box.store.storeId, lastSeq };
      }
      const s = (performance.now() - s0) / 1000;
      await store.close();
      rows.push(`| PgEventStore.apply alone (changes in memory) | ${batch} | ${fmt(changes.length)} | ${s.toFixed(1)} | ${fmt(changes.length / s)} | | |`);
    }
  } finally {
    await box.close();
  }
  return [
    `Replication throughput into PostgreSQL: a box store of ${fmt(n)} events (the search bench's mix, no snapshots; written by EventStore.insert in ${boxBuildS.toFixed(0)} s), ` +
      'served by the box\'s HTTP routes in this process on loopback, pulled by a BoxReplicator into a fresh database (PostgreSQL\'s default settings, synchronous_commit on)',
    '',
    '| path | batch | events | s | events/s | target | met |',
    '|---|---:|---:|---:|---:|---:|---|',
    ...rows,
  ].join('\n');
}

async function lag(server: ThrowawayPostgres, root: string, seconds: number): Promise<string> {
  const rows: string[] = [];
  let k = 0;
  for (const rate of [TOWN_RATE, TOWN_RATE * 10]) {
    for (const withBus of [true, false]) {
      k++;
      const dir = path.join(root, `box-lag-${k}`);
      const busEndpoint = withBus ? `tcp://127.0.0.1:${await freePort()}` : undefined;
      const bus = busEndpoint ? await EventBus.bind(busEndpoint, logger, { cameras: CAMERAS }) : undefined;
      const box = await startBox(dir, bus);
      const url = await createDatabase(server, `lag_${k}`);
      const store = await PgEventStore.open(url, { max: 4 });
      const metrics = new RecordingMetrics();
      const rep = replicator(box, store, path.join(root, `hub-lag-${k}`), metrics, { batch: 500, pollMs: 500, bus: busEndpoint });
      try {
        rep.start();
        // Let the subscriber connect and the first (empty) backfill pass.
        await sleep(1500);
        const r = rng(1000 + k);
        const t0 = Date.now();
        const writes: Array<Promise<unknown>> = [];
        let written = 0;
        while (Date.now() - t0 < seconds * 1000) {
          const due = Math.floor(((Date.now() - t0) / 1000) * rate);
          for (; written < due; written++) {
            const now = Date.now();
            writes.push(box.store.insert({ ...event(r, written), start: now - 3000, end: now }));
          }
          await sleep(10);
        }
        await Promise.all(writes);
        await caughtUp(store, box.store.lastCommittedSeq, 60_000);
        const lags = [...metrics.lags].sort((a, b) => a - b);
        const p95 = quantile(lags, 0.95);
        rows.push(
          `| ${rate} events/s${rate > TOWN_RATE ? ' (burst, 10×)' : ''} | ${withBus ? 'bus + /api/changes' : '/api/changes every 0.5 s'} | ${fmt(lags.length)} | ${fmt(metrics.viaBus)} / ${fmt(metrics.viaBackfill)} | ` +
            `${(quantile(lags, 0.5) * 1000).toFixed(0)} | **${(p95 * 1000).toFixed(0)}** | ${(lags.at(-1)! * 1000).toFixed(0)} | < ${TARGET.lagP95S * 1000} | ${p95 < TARGET.lagP95S ? 'yes' : '**no**'} |`,
        );
      } finally {
        await rep.stop();
        await store.close();
        await box.close();
        await bus?.close();
      }
    }
  }
  return [
    `Replication lag, box commit → hub commit (EventJson.updated → the hub's transaction commit, as the replicator feeds vigil_hub_event_lag_seconds), ` +
      `${seconds} s of writes per row. Assumed rate of a busy town: 116 cameras × ~1 committed event per camera per 10 s ≈ ${TOWN_RATE} events/s; a burst is 10× that. ` +
      'The box commits every 100 ms (store.flush_ms default); its bus and API on loopback, the replicator\'s poll_s 0.5, batch 500',
    '',
    '| event rate | hub reads by | events | via bus / via /api/changes | p50 ms | p95 ms | max ms | target p95 ms | met |',
    '|---|---|---:|---:|---:|---:|---:|---:|---|',
    ...rows,
  ].join('\n');
}

interface LoadResult {
  store: PgEventStore;
  url: string;
  insertS: number;
  indexS: number;
  analyzeS: number;
}

/**
 * n events into the hub's schema: the same events, ids and order as the search bench's SQLite store of n events
 * (its generator, its seed), spread over 8 boxes of ~15 cameras. Migrations and month partitions first, then the
 * indexes dropped, rows inserted 5,000 a statement from arrays (unnest) over two connections, indexes rebuilt,
 * VACUUM ANALYZE: a bulk load, not the hub's write path (that is the throughput table).
 */
export async function bulkLoad(server: ThrowawayPostgres, n: number): Promise<LoadResult> {
  const url = await createDatabase(server, 'county');
  const store = await PgEventStore.open(url, { max: 4 });
  const clients = [new pg.Client({ connectionString: url }), new pg.Client({ connectionString: url })];
  await Promise.all(clients.map((c) => c.connect()));
  const [admin] = clients as [pg.Client, pg.Client];
  try {
    for (const c of clients) await c.query("SET synchronous_commit = off; SET maintenance_work_mem = '512MB'");
    // The months the events fall in (the generator spans the year before END): as apply()'s ensurePartitions names them.
    const r0 = rng(n);
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < Math.min(n, 200_000); i++) {
      const e = event(r0, i);
      min = Math.min(min, e.start);
      max = Math.max(max, e.start);
    }
    const from = new Date(min - 40 * 86_400_000);
    for (let y = from.getUTCFullYear(), m = from.getUTCMonth(); Date.UTC(y, m, 1) <= max + 40 * 86_400_000; m++) {
      const a = Date.UTC(y, m, 1);
      const b = Date.UTC(y, m + 1, 1);
      const d = new Date(a);
      const name = `events_p${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
      await admin.query(`CREATE TABLE IF NOT EXISTS ${name} PARTITION OF events FOR VALUES FROM (${a}) TO (${b})`);
    }
    const { rows: indexes } = await admin.query<{ indexname: string; indexdef: string }>(
      "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'events' AND indexname <> 'events_box_key'",
    );
    const { rows: constraint } = await admin.query<{ def: string }>("SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = 'events_box_key'");
    await admin.query('ALTER TABLE events DROP CONSTRAINT events_box_key');
    for (const ix of indexes) await admin.query(`DROP INDEX ${ix.indexname}`);

    const sql = `INSERT INTO events (box_name, box_id, seq, kind, camera, location, label, score, start_ms, end_ms, zones, attributes, tags, plate_text, plate_alt, updated_ms)
      SELECT b, i, i, k, c, l, lb, s, st, en, CASE WHEN z IS NULL THEN '{}'::text[] ELSE ARRAY[z] END, a::jsonb, string_to_array(t, '|'), p, pa, st
      FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::float8[], $8::bigint[], $9::bigint[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[])
        AS u(b, i, k, c, l, lb, s, st, en, z, a, t, p, pa)`;
    const r = rng(n);
    const CHUNK = 5000;
    const inFlight: Array<Promise<unknown> | undefined> = [undefined, undefined];
    const t0 = performance.now();
    let lastReport = t0;
    for (let i = 0, turn = 0; i < n; i += CHUNK, turn ^= 1) {
      const cols: unknown[][] = Array.from({ length: 14 }, () => []);
      for (let k = i; k < Math.min(n, i + CHUNK); k++) {
        const e = event(r, k);
        const { tags, plateText, plateAlt } = searchableAttributes(e.attributes);
        const cam = Number(e.camera.slice(4)) - 1;
        const values = [`box-${Math.floor(cam / 15) + 1}`, k + 1, e.kind, e.camera, e.location, e.label ?? null, e.score ?? null, e.start, e.end ?? null,
          e.zones?.[0] ?? null, JSON.stringify(e.attributes ?? {}), tags.join('|'), plateText, plateAlt];
        for (let c = 0; c < 14; c++) cols[c]!.push(values[c]);
      }
      await inFlight[turn];
      inFlight[turn] = clients[turn]!.query(sql, cols);
      if (performance.now() - lastReport > 30_000) {
        lastReport = performance.now();
        console.error(`hub: ${fmt(i)} of ${fmt(n)} events loaded into PostgreSQL`);
      }
    }
    await Promise.all(inFlight);
    const insertS = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    // The constraint on one connection, the other indexes split over both.
    const defs = indexes.map((ix) => ix.indexdef.replace(' ON ONLY ', ' ON '));
    const half = [defs.filter((_, i) => i % 2 === 0), defs.filter((_, i) => i % 2 === 1)];
    await Promise.all([
      (async () => {
        await clients[0]!.query(`ALTER TABLE events ADD CONSTRAINT events_box_key ${constraint[0]!.def}`);
        for (const d of half[0]!) await clients[0]!.query(d);
      })(),
      (async () => {
        for (const d of half[1]!) await clients[1]!.query(d);
      })(),
    ]);
    await admin.query(`SELECT setval('events_id_seq', (SELECT max(id) FROM events))`);
    const indexS = (performance.now() - t1) / 1000;
    const t2 = performance.now();
    await admin.query('VACUUM ANALYZE events');
    const analyzeS = (performance.now() - t2) / 1000;
    return { store, url, insertS, indexS, analyzeS };
  } catch (err) {
    await store.close();
    throw err;
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  }
}

/** A search that runs longer than this at the hub is cut off by PostgreSQL and reported as such. */
const STATEMENT_TIMEOUT_MS = 60_000;
/** A shape whose first run takes longer than this is timed over SLOW_RUNS runs only. */
const SLOW_MS = 2000;
const SLOW_RUNS = 3;

export async function searchShapes(server: ThrowawayPostgres, n: number, runs: number): Promise<{ table: string; bytesPerMillion: number; explains: string }> {
  const ctx = searchContext();
  const loaded = await bulkLoad(server, n);
  await loaded.store.close();
  const store = await PgEventStore.open(`${loaded.url}?options=${encodeURIComponent(`-c statement_timeout=${STATEMENT_TIMEOUT_MS}`)}`, { max: 4 });
  const bytes = await store.databaseBytes();
  const held = await store.countEvents();
  // SQLite at the box: the search bench's store of the same n events (built, or reused from .cache/bench).
  const s0 = performance.now();
  const built = await buildStore(n);
  const sqliteBuildS = (performance.now() - s0) / 1000;
  const sqlite = new EventStore(built.file);
  const rows: string[] = [];
  const explains: string[] = [];
  try {
    for (const q of QUERIES) {
      const pgTimes: number[] = [];
      const sqTimes: number[] = [];
      let pgIds: string[] | undefined;
      let sqIds: string[] = [];
      let pgRuns = runs;
      let timedOut = false;
      for (let i = 0; i <= pgRuns && !timedOut; i++) {
        const t = performance.now();
        try {
          const page = await store.searchEvents(parseQuery(q, ctx), { limit: 50 });
          pgIds = page.events.map((e) => String(e.boxId));
        } catch (err) {
          if (!/statement timeout/.test((err as Error).message)) throw err;
          timedOut = true;
        }
        const ms = performance.now() - t;
        if (i > 0 && !timedOut) pgTimes.push(ms);
        if (i === 0 && ms > SLOW_MS) pgRuns = SLOW_RUNS;
      }
      for (let i = 0; i <= runs; i++) {
        const t = performance.now();
        const sp = sqlite.searchEvents(parseQuery(q, ctx), { limit: 50 });
        if (i > 0) sqTimes.push(performance.now() - t);
        sqIds = sp.events.map((e) => String(e.id));
      }
      pgTimes.sort((a, b) => a - b);
      sqTimes.sort((a, b) => a - b);
      const p99 = timedOut ? Infinity : quantile(pgTimes, 0.99);
      const met = p99 < TARGET.searchP99Ms;
      const note = timedOut ? ` (cut off at ${STATEMENT_TIMEOUT_MS / 1000} s)` : pgRuns !== runs ? ` (${pgRuns} runs)` : '';
      rows.push(
        `| ${q} | ${pgIds ? pgIds.length : '–'} | ${pgIds === undefined ? '–' : pgIds.join() === sqIds.join() ? 'same' : '**differ**'} | ` +
          `${timedOut ? '–' : quantile(pgTimes, 0.5).toFixed(2)} | **${timedOut ? `> ${STATEMENT_TIMEOUT_MS}` : p99.toFixed(2)}**${note} | ${met ? 'yes' : '**no**'} | ` +
          `${quantile(sqTimes, 0.5).toFixed(2)} | ${quantile(sqTimes, 0.99).toFixed(2)} |`,
      );
      if (!met) {
        const why = timedOut ? `cut off at ${STATEMENT_TIMEOUT_MS / 1000} s` : `p99 ${p99.toFixed(1)} ms`;
        explains.push([`EXPLAIN (PostgreSQL) for "${q}" (${why}):`, '```', ...(await store.explainSearch(parseQuery(q, ctx), { limit: 50 })), '```'].join('\n'));
      }
    }
  } finally {
    sqlite.close();
    await store.close();
  }
  const table = [
    `The 20 search shapes over ${fmt(held)} events of 116 cameras (8 boxes) in PostgreSQL, side by side with SQLite at the box holding the same ${fmt(n)} events ` +
      `(the search bench's store; ${built.rate ? `built in ${sqliteBuildS.toFixed(0)} s` : 'reused from .cache/bench'}). Parse + plan + database, limit 50, ` +
      `${runs} timed runs each after one untimed. PostgreSQL bulk load: ${loaded.insertS.toFixed(0)} s rows (${fmt(n / loaded.insertS)} rows/s), ` +
      `${loaded.indexS.toFixed(0)} s indexes, ${loaded.analyzeS.toFixed(0)} s VACUUM ANALYZE; database ${(bytes / 2 ** 30).toFixed(2)} GiB`,
    '',
    `| query | results | same events as SQLite | PostgreSQL p50 ms | PostgreSQL p99 ms | p99 < ${TARGET.searchP99Ms} ms | SQLite p50 ms | SQLite p99 ms |`,
    '|---|---:|---|---:|---:|---|---:|---:|',
    ...rows,
  ].join('\n');
  return { table, bytesPerMillion: bytes / (held / 1e6), explains: explains.join('\n\n') };
}

export async function hubBenchmark(options: HubBenchmarkOptions): Promise<string> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'vigil-hub-bench-'));
  const loadAtStart = load();
  const server = await startPostgres();
  // Interrupted (Ctrl-C): the throwaway cluster goes too.
  const interrupted = () => {
    void server.remove().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const version = await (async () => {
      const c = new pg.Client({ connectionString: server.url });
      await c.connect();
      try {
        return (await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
      } finally {
        await c.end();
      }
    })();
    const header = `Station hub benchmark: ${os.cpus().length} cores (${cpuModel()}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, PostgreSQL ${version} (a throwaway cluster, default settings), Node ${process.version}; load average at start ${loadAtStart} (1 / 5 / 15 min)`;
    console.error('hub: replication throughput');
    const tp = await throughput(server, root, options.boxEvents);
    console.error('hub: replication lag');
    const lg = await lag(server, root, options.lagSeconds);
    console.error(`hub: ${fmt(options.events)} events into PostgreSQL, then the search shapes`);
    const search = await searchShapes(server, options.events, options.runs);
    const perYear = (search.bytesPerMillion * 100) / 2 ** 30;
    const holds =
      `What one hub holds: ${(search.bytesPerMillion / 2 ** 20).toFixed(0)} MiB of database per million events (rows, indexes, no snapshots), ` +
      `so a county's ~100M events a year take ~${perYear.toFixed(0)} GiB a year before snapshots. Load average at the end ${load()}.`;
    return [header, tp, lg, search.table, search.explains, holds].filter(Boolean).join('\n\n');
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await server.remove().catch((err: Error) => console.error(`hub: could not remove the throwaway PostgreSQL: ${err.message}`));
    rmSync(root, { recursive: true, force: true });
  }
}

