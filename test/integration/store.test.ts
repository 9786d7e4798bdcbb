// The event store on a real SQLite file.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { EventStore, LAST_OBJECT_SQL, mediaRoots, SCHEMA_VERSION, type StoredEvent } from '../../src/events/store.js';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'vigil-store-'));
const base = { kind: 'object' as const, camera: 'gate', location: 'north gate' };

describe('EventStore', () => {
  it('commits batched writes, numbers every change, and tells listeners after the commit', async () => {
    const dir = tmp();
    const store = EventStore.open(dir, { flushMs: 20 });
    const committed: StoredEvent[][] = [];
    store.onCommit((events) => committed.push(events));
    const [a, b] = await Promise.all([
      store.insert({ ...base, label: 'person', score: 0.8, start: 1000, zones: ['crossing'] }),
      store.insert({ ...base, kind: 'motion', start: 1100 }),
    ]);
    expect([a.seq, b.seq]).toEqual([1, 2]);
    expect(committed).toHaveLength(1); // one transaction for both
    const ended = await store.update(a.id, { end: 5000, box: [1, 2, 3, 4] });
    expect(ended).toMatchObject({ id: a.id, seq: 3, end: 5000, box: [1, 2, 3, 4], label: 'person', zones: ['crossing'] });
    expect(store.since(1).map((e) => [e.id, e.seq])).toEqual([[b.id, 2], [a.id, 3]]);
    store.close();

    // Sequence numbers continue after a restart and are never reused.
    const again = EventStore.open(dir);
    const c = await again.insert({ ...base, start: 9000 });
    expect(c.seq).toBe(4);
    expect(again.get(a.id)).toMatchObject({ end: 5000, seq: 3 });
    again.close();
  });

  it('indexes colour attributes, alternatives included, and replaces them on update', async () => {
    const store = EventStore.open(tmp(), { flushMs: 1 });
    const e = await store.insert({ ...base, label: 'car', start: 1, attributes: { colour: { colour: 'white', confidence: 0.6, alternative: 'grey' } } });
    const sql = new Database(store.file, { readonly: true });
    const rows = () => sql.prepare('SELECT name, value, confidence FROM event_attributes WHERE event_id = ? ORDER BY value').all(e.id);
    expect(rows()).toEqual([
      { name: 'colour', value: 'grey', confidence: 0.3 },
      { name: 'colour', value: 'white', confidence: 0.6 },
    ]);
    await store.update(e.id, { attributes: { colour: { colour: 'red', confidence: 0.9 } } });
    expect(rows()).toEqual([{ name: 'colour', value: 'red', confidence: 0.9 }]);
    const plan = (sql.prepare("EXPLAIN QUERY PLAN SELECT event_id FROM event_attributes WHERE name = 'colour' AND value = 'red'").all() as Array<{ detail: string }>)
      .map((r) => r.detail).join('; ');
    expect(plan).toMatch(/USING PRIMARY KEY/);
    sql.close();
    store.close();
  });

  it('uses WAL, full sync, and records its schema version', () => {
    const dir = tmp();
    EventStore.open(dir).close();
    const db = new Database(path.join(dir, 'events.db'), { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });

  it('refuses a store from a newer vigil instead of damaging it', () => {
    const dir = tmp();
    EventStore.open(dir).close();
    const db = new Database(path.join(dir, 'events.db'));
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => EventStore.open(dir)).toThrow(/schema version .* is newer than this vigil knows/);
  });

  it('finds a camera\'s latest object event on the (camera, start) index, past newer motion events', async () => {
    const store = EventStore.open(tmp(), { flushMs: 1 });
    await store.insert({ ...base, camera: 'gate', kind: 'object', label: 'car', start: 1000 });
    await store.insert({ ...base, camera: 'gate', kind: 'object', label: 'person', start: 2000 });
    await store.insert({ ...base, camera: 'gate', kind: 'motion', start: 3000 });
    await store.insert({ ...base, camera: 'yard', kind: 'object', label: 'car', start: 5000 });
    expect(store.lastObjectAt('gate')).toBe(2000);
    expect(store.lastObjectAt('yard')).toBe(5000);
    expect(store.lastObjectAt('nowhere')).toBeUndefined();
    const db = new Database(store.file, { readonly: true });
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${LAST_OBJECT_SQL}`).all('gate') as Array<{ detail: string }>)
      .map((r) => r.detail).join('; ');
    expect(plan).toMatch(/USING INDEX events_camera_start/);
    db.close();
    store.close();
  });

  it('answers searches through indexes, not scans', () => {
    const dir = tmp();
    const store = EventStore.open(dir);
    // The store's own indexes, asked of SQLite directly (a second, read-only connection).
    const db = new Database(store.file, { readonly: true });
    const plan = (sql: string) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map((r) => r.detail).join('; ');
    expect(plan("SELECT * FROM events WHERE camera = 'gate' AND start_ms BETWEEN 1 AND 2")).toMatch(/USING INDEX events_camera_start/);
    expect(plan("SELECT * FROM events WHERE kind = 'object' AND label = 'car' AND start_ms > 5")).toMatch(/USING INDEX events_kind_label_start/);
    expect(plan("SELECT * FROM events WHERE location = 'market' ORDER BY start_ms DESC")).toMatch(/USING INDEX events_location_start/);
    expect(plan("SELECT event_id FROM event_zones WHERE zone = 'crossing'")).toMatch(/USING PRIMARY KEY|USING COVERING INDEX/);
    expect(plan('SELECT * FROM events WHERE seq > 10 ORDER BY seq')).toMatch(/USING INDEX sqlite_autoindex_events_1/);
    store.close();
  });

  it('deletes old events with their snapshot files, then the oldest until the disk budget fits', async () => {
    const dir = tmp();
    const snaps = path.join(dir, 'snapshots');
    mkdirSync(snaps);
    const store = EventStore.open(dir, { flushMs: 1 });
    const snapshot = (name: string, bytes: number) => {
      writeFileSync(path.join(snaps, name), Buffer.alloc(bytes, 1));
      return { path: name, sha256: 'x'.repeat(64), bytes };
    };
    const now = Date.now();
    for (let i = 0; i < 10; i++) {
      await store.insert({ ...base, start: now - (10 - i) * 86_400_000, end: now - (10 - i) * 86_400_000 + 60_000, frame: snapshot(`f${i}.jpg`, 100_000), crop: snapshot(`c${i}.jpg`, 50_000) });
    }
    // Older than 7.5 days: the first three go, files too.
    expect(store.enforceRetention(now - 7.5 * 86_400_000, 1e12, mediaRoots(dir)).events).toBe(3);
    expect(store.count()).toBe(7);
    expect(existsSync(path.join(snaps, 'f0.jpg'))).toBe(false);
    expect(existsSync(path.join(snaps, 'f3.jpg'))).toBe(true);
    // Budget: database plus 7 × 150 kB of snapshots must fit in database + 400 kB.
    const budget = store.databaseBytes() + 400_000;
    store.enforceRetention(0, budget, mediaRoots(dir));
    expect(store.budgetBytes()).toBeLessThanOrEqual(budget);
    expect(store.count()).toBeGreaterThan(0);
    expect(existsSync(path.join(snaps, 'f9.jpg'))).toBe(true); // the newest stay
    store.close();
  });

  it('keeps events in progress out of the budget pass, and closes the ones a crash left open', async () => {
    const dir = tmp();
    const snaps = path.join(dir, 'snapshots');
    mkdirSync(snaps);
    const store = EventStore.open(dir, { flushMs: 1 });
    const now = Date.now();
    const file = (name: string) => {
      writeFileSync(path.join(snaps, name), Buffer.alloc(100_000, 1));
      return { path: name, sha256: 'x'.repeat(64), bytes: 100_000 };
    };
    const open = await store.insert({ ...base, start: now - 3_600_000, frame: file('open.jpg') });
    for (let i = 0; i < 5; i++) await store.insert({ ...base, start: now - (5 - i) * 60_000, end: now - (5 - i) * 60_000 + 1000, frame: file(`e${i}.jpg`) });
    // A budget for two events: the oldest finished ones go; the open one, older than all, stays.
    store.enforceRetention(0, store.databaseBytes() + 200_000, mediaRoots(dir));
    expect(store.get(open.id)).not.toBeNull();
    expect(existsSync(path.join(snaps, 'open.jpg'))).toBe(true);
    expect(store.count()).toBeLessThan(6);
    store.close();
    // The process dies; the next start ends what it left open, at its last write, with a new seq.
    const again = EventStore.open(dir, { flushMs: 1 });
    const seqBefore = again.get(open.id)!.seq;
    expect(await again.closeInterrupted()).toBe(1);
    const closed = again.get(open.id)!;
    expect(closed.end).toBe(open.updated);
    expect(closed.seq).toBeGreaterThan(seqBefore);
    expect(await again.closeInterrupted()).toBe(0);
    again.close();
  });

  it('counts the database by the pages in use: over budget on rows alone, it deletes the oldest part, not everything', async () => {
    const dir = tmp();
    const store = EventStore.open(dir, { flushMs: 1 });
    const now = Date.now();
    const path5: Array<[number, number, number]> = Array.from({ length: 60 }, (_, i) => [now + i, i, i]);
    await Promise.all(Array.from({ length: 2000 }, (_, i) => store.insert({ ...base, start: now - (2000 - i) * 1000, end: now - (2000 - i) * 1000 + 500, path: path5 })));
    const full = store.databaseBytes();
    // 60% of what the rows take: about 40% of the events must go, the newest stay.
    store.enforceRetention(0, full * 0.6, mediaRoots(dir));
    const left = store.count();
    expect(left).toBeGreaterThan(1000);
    expect(left).toBeLessThan(1400);
    expect(store.databaseBytes()).toBeLessThanOrEqual(full * 0.6 + 64 * 1024);
    // Freed pages are reused, not given back, yet count as free: a second run finds nothing more to delete.
    expect(store.enforceRetention(0, full * 0.6, mediaRoots(dir)).events).toBe(0);
    expect(store.count()).toBe(left);
    store.close();
  });
});
