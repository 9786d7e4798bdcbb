// `vigil backup` while the daemon writes events: a consistent store, every snapshot with its hash, the
// audit log, and a second run that copies only what is new.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startDaemonProcess, type DaemonProcess } from '../harness/daemon-process.js';
import { burstsClip } from '../harness/media.js';
import { startRtspServer, type RtspServerProcess } from '../harness/rtsp-process.js';
import { waitFor } from '../harness/wait.js';
import { writeDaemonConfig } from '../harness/daemon-config.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-backup-'));
const file = path.join(dir, 'vigil.yaml');
const dest = path.join(dir, 'backup');
let server: RtspServerProcess;
let daemon: DaemonProcess;

const eventCount = (db: string) => {
  const d = new Database(db, { readonly: true });
  try {
    return (d.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
  } finally {
    d.close();
  }
};

beforeAll(async () => {
  server = await startRtspServer([{ name: 'a', file: await burstsClip(), fps: 25 }]);
  // A block moving 2 s of every 5 and motion events ending after 1 s of quiet: events keep coming.
  writeDaemonConfig(dir, {
    cameras: [{ name: 'cam-a', url: server.url('a'), location: 'market', detect: { width: 320, height: 180, fps: 5 } }],
    busPort: null,
    extra: { motion: { quiet_s: 1 }, plates: { enabled: false } },
  });
  daemon = await startDaemonProcess(['--config', file]);
  await waitFor('events in the store', () => existsSync(path.join(dir, 'data', 'events.db')) && eventCount(path.join(dir, 'data', 'events.db')) > 0, 30_000);
}, 120_000);

afterAll(async () => {
  await daemon?.stop();
  await server?.stop();
});

describe('vigil backup', () => {
  it('copies a consistent store, its snapshots and the audit log while the daemon runs, then only what is new', async () => {
    const first = await runCli(['backup', dest, '--config', file, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const one = JSON.parse(first.stdout.trim()) as { events: number; lastSeq: number; snapshotsCopied: number; snapshotsKept: number };
    expect(one.events).toBeGreaterThan(0);
    expect(one.snapshotsKept).toBe(0);

    const db = new Database(path.join(dest, 'events.db'), { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.pragma('journal_mode', { simple: true })).toBe('delete');
      const rows = db.prepare('SELECT snapshot_frame AS f, snapshot_frame_sha256 AS h FROM events WHERE snapshot_frame IS NOT NULL').all() as Array<{ f: string; h: string }>;
      expect(rows.length).toBeGreaterThan(0);
      // Every snapshot the backed-up rows point to is there, byte for byte.
      for (const { f, h } of rows) expect(createHash('sha256').update(readFileSync(path.join(dest, 'snapshots', f))).digest('hex'), f).toBe(h);
    } finally {
      db.close();
    }
    expect(JSON.parse(readFileSync(path.join(dest, 'BACKUP.json'), 'utf8'))).toMatchObject({ events: one.events, vigil_version: expect.any(String) });
    expect(existsSync(path.join(dest, 'api-token'))).toBe(false);

    // The daemon goes on writing; a second backup brings the copy up to date, event clips included.
    await waitFor('more events', () => eventCount(path.join(dir, 'data', 'events.db')) > one.events + 1, 30_000);
    await waitFor('an event with its clip', () => {
      const d = new Database(path.join(dir, 'data', 'events.db'), { readonly: true });
      try {
        return (d.prepare("SELECT COUNT(*) AS n FROM events WHERE clips <> '[]'").get() as { n: number }).n > 0;
      } finally {
        d.close();
      }
    }, 30_000);
    const second = await runCli(['backup', dest, '--config', file, '--json']);
    expect(second.code, second.stderr).toBe(0);
    const two = JSON.parse(second.stdout.trim()) as typeof one;
    expect(two.lastSeq).toBeGreaterThan(one.lastSeq);
    expect(two.snapshotsKept).toBeGreaterThanOrEqual(one.snapshotsCopied);
    expect(two.snapshotsCopied).toBeGreaterThan(0);
    const copy = new Database(path.join(dest, 'events.db'), { readonly: true });
    try {
      const clips = (copy.prepare("SELECT clips FROM events WHERE clips <> '[]'").all() as Array<{ clips: string }>).flatMap((r) => JSON.parse(r.clips) as Array<{ path: string; sha256: string }>);
      expect(clips.length).toBeGreaterThan(0);
      // Every clip the backed-up rows name is in the backup, byte for byte.
      for (const c of clips) expect(createHash('sha256').update(readFileSync(path.join(dest, 'clips', c.path))).digest('hex'), c.path).toBe(c.sha256);
    } finally {
      copy.close();
    }

    // The backup is a store vigil can search.
    const found = await runCli(['search', 'market', '--db', path.join(dest, 'events.db'), '--json']);
    expect(found.code, found.stderr).toBe(0);
    expect((JSON.parse(found.stdout) as { events: unknown[] }).events.length).toBeGreaterThan(0);
    expect(existsSync(path.join(dest, 'audit.log'))).toBe(true);
  }, 90_000);

  it('says what is wrong when there is no store or no destination', async () => {
    const missing = path.join(dir, 'nothing.yaml');
    writeFileSync(missing, 'data_dir: ./nowhere\ncameras: [{ name: x, url: "rtsp://127.0.0.1:9/x", location: y }]\n');
    const r = await runCli(['backup', path.join(dir, 'b2'), '--config', missing]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no event store at');
    const usage = await runCli(['backup', '--config', file]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('usage: vigil backup DIR --config FILE');
  });
});
