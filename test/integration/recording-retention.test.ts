// Recordings inside the disk budget, on a real SQLite store with real files: continuous recording is kept for
// its own retention_days, the ring only as long as ring_minutes, and over the budget the oldest of events
// (with their snapshots and clips) and continuous segments go first, whichever is older, never a segment an
// open event or a clip still to be made needs. A clip's bytes count in the budget and its file goes with its
// event.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { RecordingSchema, StoreSchema } from '../../src/config/schema.js';
import { Retention } from '../../src/daemon/retention.js';
import { EventStore, mediaRoots, type ClipRef } from '../../src/events/store.js';
import { VigilMetrics } from '../../src/metrics/metrics.js';
import type { NewSegment, Segment } from '../../src/recording/segment-index.js';
import { memoryLogger } from '../harness/memory-logger.js';

const MB = 1_000_000;
const HOUR = 3_600_000;

function setup() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-recording-retention-'));
  const roots = mediaRoots(dir);
  for (const root of Object.values(roots)) mkdirSync(root, { recursive: true });
  const store = EventStore.open(dir, { flushMs: 1 });
  let n = 0;
  const segment = (camera: string, start: number, bytes: number, keepUntil: number | null): NewSegment => {
    const rel = `${camera}/seg-${n}.ts`;
    mkdirSync(path.join(roots.recordings, camera), { recursive: true });
    writeFileSync(path.join(roots.recordings, rel), Buffer.alloc(bytes, 7));
    return { camera, run: 'r1', idx: n++, path: rel, start, end: start + 2000, bytes, sha256: 'a'.repeat(64), keepUntil, last: false };
  };
  const clip = (name: string, start: number, bytes: number): ClipRef => {
    mkdirSync(path.dirname(path.join(roots.clips, name)), { recursive: true });
    writeFileSync(path.join(roots.clips, name), Buffer.alloc(bytes, 3));
    return { path: name, sha256: 'b'.repeat(64), bytes, start, end: start + 10_000, codec: 'h264', truncated: false };
  };
  return { dir, roots, store, segment, clip };
}

describe('recordings inside the disk budget', () => {
  it('counts clips and segments in the budget and frees the oldest of events and continuous recording first, sparing pinned segments', async () => {
    const { roots, store, segment, clip } = setup();
    const now = Date.now();
    // Ten hours: each hour an event with a 1 MB clip, and 1 MB of continuous recording half an hour later.
    const events = [];
    for (let h = 10; h >= 1; h--) {
      const start = now - h * HOUR;
      events.push(await store.insert({ kind: 'object', camera: 'gate', location: 'gate', label: 'car', start, end: start + 5000, clips: [clip(`gate/e${h}.mp4`, start, MB)] }));
      store.segments.add(segment('gate', start + HOUR / 2, MB, now + 86_400_000));
    }
    expect(store.mediaBytes()).toBe(10 * MB);
    expect(store.segments.bytes()).toBe(10 * MB);
    const base = store.databaseBytes();
    expect(store.budgetBytes()).toBe(base + 20 * MB);
    // The oldest continuous segment (9.5 h ago) is still needed by an export.
    const pinnedPath = 'gate/seg-0.ts';
    const pinned = (s: Segment) => s.path === pinnedPath;
    // Budget for about 12 MB of media: 8 MB must go, oldest first: events and segments alternate by time.
    const result = store.enforceRetention(0, base + 12 * MB, roots, pinned);
    expect(store.budgetBytes()).toBeLessThanOrEqual(base + 12 * MB + 64 * 1024);
    const leftEvents = events.filter((e) => store.get(e.id));
    // Oldest events went with their clips; the newest stay.
    expect(existsSync(path.join(roots.clips, 'gate/e10.mp4'))).toBe(false);
    expect(existsSync(path.join(roots.clips, 'gate/e1.mp4'))).toBe(true);
    expect(store.get(events[0]!.id)).toBeUndefined();
    expect(store.get(events[events.length - 1]!.id)).toBeDefined();
    // Both kinds were freed, in time order: about as many of each.
    expect(result.events).toBeGreaterThanOrEqual(3);
    expect(result.segments).toBeGreaterThanOrEqual(3);
    expect(Math.abs(result.events - result.segments)).toBeLessThanOrEqual(2);
    // The pinned segment, the oldest of all, stayed.
    expect(store.segments.byPath(pinnedPath)).toBeDefined();
    expect(existsSync(path.join(roots.recordings, pinnedPath))).toBe(true);
    expect(leftEvents.length).toBe(10 - result.events);
    store.close();
  });

  it('frees the ring too when over the budget, all but its last minute', async () => {
    const { roots, store, segment } = setup();
    const now = Date.now();
    const old = [5, 4, 3, 2].map((m) => segment('lot', now - m * 60_000, MB, null));
    const recent = segment('lot', now - 30_000, MB, null);
    for (const s of [...old, recent]) store.segments.add(s);
    const base = store.databaseBytes();
    const result = store.enforceRetention(0, base + 2.5 * MB, roots, () => false, now - 60_000);
    // The oldest three go; the newest old one and the last minute stay.
    expect(result.segments).toBe(3);
    expect(store.segments.byPath(old[3]!.path)).toBeDefined();
    expect(store.segments.byPath(recent.path)).toBeDefined();
    expect(existsSync(path.join(roots.recordings, old[0]!.path))).toBe(false);
    // A budget smaller than the last minute cannot take it: it stays (the next event's pre_s comes from it).
    store.enforceRetention(0, 0, roots, () => false, now - 60_000);
    expect(store.segments.byPath(recent.path)).toBeDefined();
    store.close();
  });

  it('keeps continuous recording for its retention_days and the ring for ring_minutes, unless an open event needs it', async () => {
    const { roots, store, segment } = setup();
    const now = Date.now();
    const ringOld = segment('lot', now - 20 * 60_000, 1000, null);
    const ringNeeded = segment('lot', now - 15 * 60_000, 1000, null);
    const ringNew = segment('lot', now - 60_000, 1000, null);
    const keptExpired = segment('yard', now - 3 * 86_400_000, 1000, now - 1000);
    const keptValid = segment('yard', now - 20 * 60_000, 1000, now + 86_400_000);
    for (const s of [ringOld, ringNeeded, ringNew, keptExpired, keptValid]) store.segments.add(s);
    const log = memoryLogger('info');
    const retention = new Retention(
      {
        store,
        roots,
        audit: new AuditLog(path.dirname(roots.snapshots)),
        metrics: new VigilMetrics(),
        logger: log.logger,
        // An event on lot began 16 minutes ago and goes on: it needs what was recorded since.
        pinned: (s) => s.camera === 'lot' && s.end > now - 16 * 60_000,
      },
      () => ({ store: StoreSchema.parse({}), recording: RecordingSchema.parse({ ring_minutes: 10, min_free_mb: 0 }) }),
    );
    retention.run();
    const left = new Set(store.segments.window('lot', 0, Infinity).concat(store.segments.window('yard', 0, Infinity)).map((s) => s.path));
    expect(left).toEqual(new Set([ringNeeded.path, ringNew.path, keptValid.path]));
    expect(existsSync(path.join(roots.recordings, ringOld.path))).toBe(false);
    expect(existsSync(path.join(roots.recordings, keptExpired.path))).toBe(false);
    expect(existsSync(path.join(roots.recordings, keptValid.path))).toBe(true);
    expect(store.segments.bytes()).toBe(3000);
    store.close();
  });
});
