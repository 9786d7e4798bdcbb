// What a station hub reads from a box: /api/changes (events and tombstones in sequence order, the horizon
// past which tombstones were pruned), /api/box, snapshots by hash, and the token scopes that guard them, on a
// running daemon.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BoxStatusJson, ChangesJson, EventJson, TombstoneJson } from '../../src/contract/types.js';
import { EventStore, mediaRoots } from '../../src/events/store.js';
import { startDaemonProcess, type DaemonProcess } from '../harness/daemon-process.js';
import { closedPort } from '../harness/rtsp-process.js';
import { STATION_TOKENS, writeBoxConfig } from '../harness/station.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-replication-'));
const data = path.join(dir, 'data');
const TOKENS = { reader: STATION_TOKENS.officer, hub: STATION_TOKENS.hub, admin: STATION_TOKENS.admin };
const jpeg = Buffer.from('/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQH/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AKp//2Q==', 'base64');
const sha = createHash('sha256').update(jpeg).digest('hex');
const tampered = Buffer.concat([jpeg, Buffer.from('x')]);
const tamperedSha = createHash('sha256').update(Buffer.concat([jpeg, Buffer.from('y')])).digest('hex');
let daemon: DaemonProcess;
const ids: Record<string, number> = {};

beforeAll(async () => {
  mkdirSync(path.join(data, 'snapshots', 'gate'), { recursive: true });
  writeFileSync(path.join(data, 'snapshots', 'gate', 'a.jpg'), jpeg);
  // Recorded with one hash, changed on disk since: what a hub must never accept.
  writeFileSync(path.join(data, 'snapshots', 'gate', 'b.jpg'), tampered);
  const store = EventStore.open(data, { flushMs: 1 });
  const now = Date.now();
  const base = { camera: 'gate', location: 'gate', kind: 'object' as const, label: 'car', score: 0.8 };
  ids.old1 = (await store.insert({ ...base, start: now - 100 * 86_400_000, end: now - 100 * 86_400_000 + 1000 })).id;
  ids.old2 = (await store.insert({ ...base, start: now - 99 * 86_400_000, end: now - 99 * 86_400_000 + 1000 })).id;
  ids.kept = (await store.insert({ ...base, start: now - 60_000, end: null, frame: { path: 'gate/a.jpg', sha256: sha, bytes: jpeg.length } })).id;
  ids.bad = (await store.insert({ ...base, start: now - 30_000, end: now - 20_000, frame: { path: 'gate/b.jpg', sha256: tamperedSha, bytes: tampered.length } })).id;
  await store.update(ids.kept, { end: now - 50_000 });
  expect(store.enforceRetention(now - 90 * 86_400_000, 1e12, mediaRoots(data)).events).toBe(2);
  store.close();
  const file = writeBoxConfig({ name: 'gate', dir, busPort: null, cameras: [{ name: 'gate', url: `rtsp://127.0.0.1:${await closedPort()}/x`, location: 'gate' }] });
  daemon = await startDaemonProcess(['--config', file]);
}, 60_000);
afterAll(async () => daemon?.stop());

const get = (url: string, token: string) => fetch(`${daemon.address}${url}`, { headers: { authorization: `Bearer ${token}` } });

describe('replication from a box', () => {
  it('serves committed changes in sequence order, tombstones of deleted events included, and pages them', async () => {
    const all = (await (await get('/api/changes?after=0', TOKENS.hub)).json()) as ChangesJson;
    expect(all.store_id).toMatch(/^[0-9a-f]{32}$/);
    const seqs = all.changes.map((c) => c.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(all.last_seq).toBe(seqs.at(-1));
    const events = all.changes.filter((c): c is EventJson => !('deleted' in c));
    const tombstones = all.changes.filter((c): c is TombstoneJson => 'deleted' in c);
    // The updated event is served once, at its newest version; the deleted ones only as tombstones.
    expect(events.map((e) => e.id).sort()).toEqual([ids.kept, ids.bad].sort());
    expect(events.find((e) => e.id === ids.kept)!.end).not.toBeNull();
    expect(events.find((e) => e.id === ids.kept)!.snapshots.frame).toMatchObject({ sha256: sha, bytes: jpeg.length });
    expect(Date.parse(events[0]!.updated!)).toBeGreaterThan(0);
    expect(tombstones.map((t) => t.id).sort()).toEqual([ids.old1, ids.old2].sort());
    expect(tombstones.every((t) => t.reason === 'retention')).toBe(true);
    expect(all.horizon_seq).toBe(0);
    // Paged: two at a time, the next page after the last seq of this one, nothing twice, nothing missed.
    const paged: number[] = [];
    for (let after = 0; ; ) {
      const page = (await (await get(`/api/changes?after=${after}&limit=2`, TOKENS.hub)).json()) as ChangesJson;
      paged.push(...page.changes.map((c) => c.seq));
      if (page.changes.length < 2) break;
      after = page.changes.at(-1)!.seq;
    }
    expect(paged).toEqual(seqs);
    expect((await get('/api/changes?after=-1', TOKENS.hub)).status).toBe(400);
    expect((await get('/api/changes?limit=100000', TOKENS.hub)).status).toBe(400);
  });

  it('tells a hub the box status: store position, cameras, places', async () => {
    const box = (await (await get('/api/box', TOKENS.hub)).json()) as BoxStatusJson;
    expect(box.cameras.map((c) => c.name)).toEqual(['gate']);
    expect(box.places.some((p) => p.kind === 'camera' && p.name === 'gate')).toBe(true);
    expect(box.last_seq).toBeGreaterThan(0);
  });

  it('serves a snapshot by its capture hash, and refuses one changed since', async () => {
    const ok = await get(`/api/attachments/${sha}`, TOKENS.hub);
    expect(ok.status).toBe(200);
    expect(createHash('sha256').update(Buffer.from(await ok.arrayBuffer())).digest('hex')).toBe(sha);
    expect((await get(`/api/attachments/${tamperedSha}`, TOKENS.hub)).status).toBe(409);
    expect((await get(`/api/attachments/${'0'.repeat(64)}`, TOKENS.hub)).status).toBe(404);
    expect((await get('/api/attachments/nothex', TOKENS.hub)).status).toBe(400);
  });

  it('gives each token only its scopes: a hub token cannot search, an officer cannot replicate, admin can both', async () => {
    const hubSearch = await get('/api/search?q=car', TOKENS.hub);
    expect(hubSearch.status).toBe(403);
    expect(((await hubSearch.json()) as { error: string }).error).toContain('needs read');
    expect((await get('/api/changes', TOKENS.reader)).status).toBe(403);
    expect((await get(`/api/attachments/${sha}`, TOKENS.reader)).status).toBe(403);
    expect((await get('/api/search?q=car', TOKENS.reader)).status).toBe(200);
    expect((await get('/api/changes', TOKENS.admin)).status).toBe(200);
    expect((await get('/api/search?q=car', TOKENS.admin)).status).toBe(200);
    expect((await get('/api/live/gate/status', TOKENS.hub)).status).toBe(200);
  });
});

describe('tombstones and the horizon', () => {
  it('prunes old tombstones and moves the horizon past them', async () => {
    const store = EventStore.open(path.join(dir, 'horizon'), { flushMs: 1 });
    const e = await store.insert({ camera: 'gate', location: 'gate', kind: 'motion', start: 1000, end: 2000 });
    expect(store.enforceRetention(Date.now(), 1e12, mediaRoots(path.join(dir, 'horizon'))).events).toBe(1);
    const [tomb] = store.changes(0);
    expect(tomb).toEqual({ tombstone: { seq: e.seq + 1, id: e.id, deletedAt: expect.any(Number) } });
    expect(store.lastCommittedSeq).toBe(e.seq + 1);
    expect(store.pruneTombstones(Date.now() + 1)).toBe(1);
    expect(store.horizonSeq()).toBe(e.seq + 1);
    expect(store.changes(0)).toEqual([]);
    // The next event follows the tombstone's number, after a reopen too.
    store.close();
    const again = EventStore.open(path.join(dir, 'horizon'), { flushMs: 1 });
    expect((await again.insert({ camera: 'gate', location: 'gate', kind: 'motion', start: 3000 })).seq).toBe(e.seq + 2);
    again.close();
  });
});
