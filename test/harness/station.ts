// A station on loopback for the hub's tests: boxes (real daemons with real cameras), their tokens, a hub config
// pointing at them, and ways to compare what a box holds with what the hub holds.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { ChangesJson, EventJson } from '../../src/contract/types.js';
import { EventStore } from '../../src/events/store.js';
import { writeDaemonConfig, type TestCamera } from './daemon-config.js';

export const STATION_TOKENS = { officer: 'officer-token-0123456789', hub: 'hub-replicate-token-0123', admin: 'admin-token-0123456789ab' };

export interface BoxSpec {
  name: string;
  dir: string;
  cameras: TestCamera[];
  /** Its bus on 127.0.0.1:busPort; null: no bus. */
  busPort: number | null;
  extra?: Record<string, unknown>;
}

/** A box's config with an officer's token (read), the hub's (replicate) and an admin's; the bus on busPort (or none). */
export function writeBoxConfig(spec: BoxSpec): string {
  mkdirSync(spec.dir, { recursive: true });
  return writeDaemonConfig(spec.dir, {
    cameras: spec.cameras,
    busPort: spec.busPort,
    timeZone: 'Asia/Shanghai',
    api: {
      auth_failures_per_minute: 10_000,
      tokens: [
        { name: 'officer', token: STATION_TOKENS.officer },
        { name: 'hub', token: STATION_TOKENS.hub, scopes: ['replicate'] },
        { name: 'ops', token: STATION_TOKENS.admin, scopes: ['admin'] },
      ],
    },
    extra: { plates: { enabled: false }, ...spec.extra },
  });
}

export interface HubBox {
  name: string;
  url: string;
  bus?: string | null;
  /** The box's bus.curve.public_key, when its bus uses CURVE (the hub's own pair then goes in `extra.bus`). */
  serverKey?: string;
}

/** The hub's config: its PostgreSQL, its boxes (the hub's replicate token), an officer's token at the hub. */
export function writeHubConfig(dir: string, options: { databaseUrl: string; boxes: HubBox[]; replication?: Record<string, number>; extra?: Record<string, unknown> }): string {
  mkdirSync(dir, { recursive: true });
  const config = {
    database: { url: options.databaseUrl, pool: 4 },
    boxes: options.boxes.map((b) => ({ name: b.name, url: b.url, token: STATION_TOKENS.hub, bus: b.bus ? { endpoint: b.bus, ...(b.serverKey ? { server_key: b.serverKey } : {}) } : null })),
    api: { host: '127.0.0.1', port: 0, auth_failures_per_minute: 10_000, tokens: [{ name: 'officer', token: STATION_TOKENS.officer }, { name: 'ops', token: STATION_TOKENS.admin, scopes: ['admin'] }] },
    data_dir: './hub-data',
    time_zone: 'Asia/Shanghai',
    replication: { poll_s: 0.5, batch: 200, timeout_s: 5, backoff_max_s: 2, ...options.replication },
    ...options.extra,
  };
  const file = path.join(dir, 'hub.yaml');
  writeFileSync(file, JSON.stringify(config, null, 2) + '\n');
  return file;
}

/** Every event a box holds now, id → seq, read through its own /api/changes (admin token). */
export async function boxEvents(address: string): Promise<Map<number, number>> {
  const events = new Map<number, number>();
  for (let after = 0; ; ) {
    const response = await fetch(`${address}/api/changes?after=${after}&limit=2000`, { headers: { authorization: `Bearer ${STATION_TOKENS.admin}` } });
    if (!response.ok) throw new Error(`${address}/api/changes: HTTP ${response.status}`);
    const page = (await response.json()) as ChangesJson;
    for (const c of page.changes) {
      if ('deleted' in c) events.delete(c.id);
      else events.set((c as EventJson).id, c.seq);
    }
    if (page.changes.length < 2000) return events;
    after = page.changes.at(-1)!.seq;
  }
}

/** Every event the hub holds of `box`, box id → seq, straight from PostgreSQL; throws when one is held twice. */
export async function hubEvents(databaseUrl: string, box: string): Promise<Map<number, number>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ box_id: string; seq: string }>('SELECT box_id, seq FROM events WHERE box_name = $1', [box]);
    const events = new Map<number, number>();
    for (const r of rows) {
      if (events.has(Number(r.box_id))) throw new Error(`the hub holds event ${r.box_id} of box ${box} twice`);
      events.set(Number(r.box_id), Number(r.seq));
    }
    return events;
  } finally {
    await client.end();
  }
}

/** The hub's cursor of a box (the box's sequence number up to which it holds every change), 0 when none. */
export async function hubCursor(databaseUrl: string, box: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ last_seq: string }>('SELECT last_seq FROM box_cursors WHERE box = $1', [box]);
    return rows.length ? Number(rows[0]!.last_seq) : 0;
  } catch {
    return 0; // not migrated yet
  } finally {
    await client.end();
  }
}

/** A tiny valid JPEG with `n` in a comment segment: each one a distinct file with its own SHA-256. */
export function numberedJpeg(n: number): Buffer {
  const base = Buffer.from('/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQH/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AKp//2Q==', 'base64');
  const text = Buffer.from(`vigil test ${n}`);
  const comment = Buffer.concat([Buffer.from([0xff, 0xfe, 0, text.length + 2]), text]);
  return Buffer.concat([base.subarray(0, 2), comment, base.subarray(2)]);
}

/**
 * Writes `count` past events into a box's store before it starts (what a box that ran for a while holds), one
 * in `withSnapshot` with a snapshot file; returns each snapshot's sha256 and file by event id.
 */
export async function seedBoxStore(dataDir: string, camera: string, location: string, count: number, withSnapshot = 10): Promise<Map<number, { sha256: string; file: string }>> {
  const store = EventStore.open(dataDir, { flushMs: 1, batchSize: 500 });
  const snapshots = new Map<number, { sha256: string; file: string }>();
  const start = Date.now() - 3 * 86_400_000;
  const labels = ['person', 'car', 'motorcycle', 'truck'];
  const colours = ['red', 'white', 'black', 'blue'];
  const pending: Array<Promise<unknown>> = [];
  for (let i = 0; i < count; i++) {
    let frame = null;
    if (i % withSnapshot === 0) {
      const bytes = numberedJpeg(i);
      const rel = `${camera}/seed-${i}.jpg`;
      mkdirSync(path.join(dataDir, 'snapshots', camera), { recursive: true });
      writeFileSync(path.join(dataDir, 'snapshots', rel), bytes);
      frame = { path: rel, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
    }
    const t = start + i * 20_000;
    pending.push(
      store
        .insert({ kind: 'object', camera, location, label: labels[i % 4]!, score: 0.5 + (i % 50) / 100, start: t, end: t + 5000, attributes: { colour: { colour: colours[i % 4]!, confidence: 0.7 } }, frame })
        .then((e) => frame && snapshots.set(e.id, { sha256: frame.sha256, file: path.join(dataDir, 'snapshots', frame.path) })),
    );
  }
  await Promise.all(pending);
  store.close();
  return snapshots;
}
