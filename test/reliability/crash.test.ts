// Reliability: kill -9 under load, again and again, on the same data_dir. Each round starts the daemon on
// the same config and data with four busy cameras of real street footage, subscribes to its ZeroMQ bus, waits
// for events to flow, waits a random (seeded) few seconds more and SIGKILLs it.
//
// Environment:
//   VIGIL_KILL9_ROUNDS  rounds (default 5; ~20-30 s each)
//   VIGIL_SEED          the seed of the kill times (default: random, printed so a run can be replayed)
//
// Asserts after every kill, with the store opened read-only by better-sqlite3: PRAGMA integrity_check is "ok";
// the meta table's last sequence number is the highest in the table; every event published on the bus before
// the kill is in the store with the same sequence number or a later one (a later update); no event stored by
// an earlier round is gone; sequence numbers never go back (each round's first published number is above
// everything stored before it); every row's snapshot files exist and hash to what the row says (files are
// written before rows; an orphan file is allowed after a crash, a row naming a missing file is not); the
// killed daemon's ffmpeg children do not outlive it. The next round is the restart on the same data; after the
// last one the daemon starts once more and stops cleanly with SIGTERM (exit 0).
import { existsSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDaemonConfig } from '../harness/daemon-config.js';
import { fetchHealth } from '../harness/daemon-probe.js';
import { startDaemonProcess, type DaemonProcess } from '../harness/daemon-process.js';
import { envNumber } from '../harness/env.js';
import { subscribeBus, type BusSubscription } from '../harness/event-bus-subscriber.js';
import { describeProcesses, ffmpegWith } from '../harness/proc.js';
import { closedPort, startRtspServer, type RtspServerProcess } from '../harness/rtsp-process.js';
import { between, seededRandom, testSeed } from '../harness/seeded-random.js';
import { streetClips } from '../harness/street-clips.js';
import { sha256OfFile, snapshotFiles, storedEvents, type StoredEvent } from '../harness/stored-events.js';
import { testDir } from '../harness/test-dir.js';
import { sleep, waitFor } from '../harness/wait.js';

const ROUNDS = envNumber('VIGIL_KILL9_ROUNDS', 5, 1);
/** After the first event of a round, the kill comes this many ms later (uniform, seeded). */
const KILL_AFTER_MS: [number, number] = [500, 8000];

let server: RtspServerProcess;
let daemon: DaemonProcess | undefined;
let bus: BusSubscription | undefined;

beforeAll(async () => {
  const { campus, lot } = await streetClips();
  server = await startRtspServer([campus, lot]);
}, 120_000);
afterAll(async () => {
  if (daemon) {
    daemon.child.kill('SIGKILL');
    await daemon.stop();
  }
  await bus?.close();
  await server?.stop();
});

interface StoreCheck {
  rows: Map<number, StoredEvent>;
  maxSeq: number;
  /** Events without an end: in progress when the daemon died (nothing ends them later). */
  open: number;
}

/** Opens the store read-only as an outside tool would and checks it is whole and self-consistent. */
function checkStore(dataDir: string, label: string): StoreCheck {
  const db = new Database(path.join(dataDir, 'events.db'), { readonly: true, fileMustExist: true });
  try {
    expect(db.pragma('integrity_check', { simple: true }), `${label}: PRAGMA integrity_check`).toBe('ok');
    expect(db.pragma('foreign_key_check'), `${label}: PRAGMA foreign_key_check`).toEqual([]);
    const rows = storedEvents(db);
    const open = (db.prepare('SELECT COUNT(*) AS n FROM events WHERE end_ms IS NULL').get() as { n: number }).n;
    const maxSeq = rows.reduce((m, r) => Math.max(m, r.seq), 0);
    const lastSeq = (db.prepare("SELECT value FROM meta WHERE key = 'last_seq'").get() as { value: number }).value;
    expect(lastSeq, `${label}: meta.last_seq is the highest sequence number stored`).toBe(maxSeq);
    const root = path.join(dataDir, 'snapshots');
    for (const r of rows) {
      for (const { path: p, sha256 } of snapshotFiles(r)) {
        const file = path.join(root, p);
        expect(existsSync(file), `${label}: event ${r.id} names snapshot ${p}, which exists`).toBe(true);
        expect(sha256OfFile(file), `${label}: sha256 of ${p}`).toBe(sha256);
      }
    }
    return { rows: new Map(rows.map((r) => [r.id, r])), maxSeq, open };
  } finally {
    db.close();
  }
}

describe('kill -9 under load', () => {
  it(`keeps the store whole and every published event across ${ROUNDS} SIGKILLs on the same data`, async () => {
    const seed = testSeed();
    console.log(`crash: ${ROUNDS} rounds, seed ${seed} (VIGIL_SEED=${seed} replays the kill times)`);
    const random = seededRandom(seed);
    const dir = testDir('vigil-crash-');
    const dataDir = path.join(dir, 'data');
    const busPort = await closedPort();
    const cameras = ['campus', 'campus', 'campus', 'lot'].map((mount, i) => ({
      name: `busy-${i}`,
      url: server.url(mount),
      location: `street ${i}`,
      detect: { width: 640, height: 360, fps: 5, ...(mount === 'lot' ? { score_threshold: 0.17 } : {}) },
    }));
    const file = writeDaemonConfig(dir, { cameras, busPort, store: { flush_ms: 50 } });
    const marker = `127.0.0.1:${server.port}/`;

    let previous: StoreCheck = { rows: new Map(), maxSeq: 0, open: 0 };
    for (let round = 1; round <= ROUNDS; round++) {
      const label = `round ${round}`;
      bus = await subscribeBus(`tcp://127.0.0.1:${busPort}`);
      const spawnedAt = Date.now();
      daemon = await startDaemonProcess(['--config', file]);
      const d = daemon;
      const listeningMs = Date.now() - spawnedAt;
      // Under load: events are flowing before the kill.
      await waitFor(`${label}: the first event on the bus`, () => bus!.messages.length > 0, 60_000, 50);
      const firstEventMs = Date.now() - spawnedAt;
      const killAfter = Math.round(between(random, ...KILL_AFTER_MS));
      await sleep(killAfter);
      d.child.kill('SIGKILL');
      const exit = await d.stop();
      daemon = undefined;
      const killedAt = Date.now();
      await bus.close();
      const messages = bus.messages;
      bus = undefined;
      expect(exit.signal, `${label}: the daemon died of SIGKILL`).toBe('SIGKILL');
      const errors = d.logRecords().filter((r) => r.level === 'error' || r.level === 'fatal');
      expect(errors.map((r) => r.msg), `${label}: error-level log lines before the kill`).toEqual([]);

      // Its ffmpeg children lose their reader and exit (EPIPE) rather than run on as orphans.
      let lingering = ffmpegWith([marker]);
      try {
        await waitFor(`${label}: the killed daemon's ffmpeg children to exit`, () => (lingering = ffmpegWith([marker])).length === 0, 10_000, 100);
      } catch (err) {
        throw new Error(`${(err as Error).message}; still running:\n${describeProcesses(lingering)}`);
      }
      const orphanMs = Date.now() - killedAt;

      const store = checkStore(dataDir, label);
      // Every event published before the kill is stored, at its published version or a later one.
      for (const m of messages) {
        const row = store.rows.get(m.event.id);
        expect(row, `${label}: published event ${m.event.id} (seq ${m.event.seq}) is in the store`).toBeDefined();
        expect(row!.seq, `${label}: event ${m.event.id} stored at seq ${row!.seq}, published at ${m.event.seq}`).toBeGreaterThanOrEqual(m.event.seq);
      }
      // Sequence numbers: increasing on the bus, above everything stored by earlier rounds, never lower in the store.
      const seqs = messages.map((m) => m.event.seq);
      expect(seqs.slice(1).filter((s, i) => s <= seqs[i]!), `${label}: bus sequence numbers increase`).toEqual([]);
      expect(seqs[0]!, `${label}: first published seq ${seqs[0]} is above the ${previous.maxSeq} stored before this round`).toBeGreaterThan(previous.maxSeq);
      expect(store.maxSeq).toBeGreaterThanOrEqual(Math.max(previous.maxSeq, ...seqs));
      // Nothing stored by an earlier round is lost (retention is at its defaults: nothing is old or over budget).
      const lost = [...previous.rows.keys()].filter((id) => !store.rows.has(id));
      expect(lost, `${label}: events stored by earlier rounds and now missing`).toEqual([]);

      const line = `${label}: api after ${listeningMs} ms, first event after ${firstEventMs} ms, killed ${killAfter} ms later; ` +
        `${messages.length} published (seq ${seqs[0]}-${seqs.at(-1)}), store ${store.rows.size} events up to seq ${store.maxSeq}; ffmpeg gone ${orphanMs} ms after the kill`;
      console.log(`crash: ${line}`);
      previous = store;
    }

    // The last restart on the same data: comes up, records, and this time stops cleanly.
    bus = await subscribeBus(`tcp://127.0.0.1:${busPort}`);
    daemon = await startDaemonProcess(['--config', file]);
    const d = daemon;
    await waitFor('every camera up after the last kill', async () => (await fetchHealth(d.address)).health.status === 'ok', 30_000);
    await waitFor('events after the last kill', () => bus!.messages.length >= 3, 60_000, 100);
    const stopped = await d.stop();
    daemon = undefined;
    await bus.close();
    const messages = bus.messages;
    bus = undefined;
    expect(stopped, `clean stop after ${ROUNDS} kills: ${d.stderr().slice(-2000)}`).toMatchObject({ code: 0, signal: null });
    expect(d.logRecords().filter((r) => r.level === 'error' || r.level === 'fatal').map((r) => r.msg)).toEqual([]);
    const final = checkStore(dataDir, 'after the clean stop');
    expect(messages[0]!.event.seq).toBeGreaterThan(previous.maxSeq);
    expect([...previous.rows.keys()].filter((id) => !final.rows.has(id)), 'events lost by the last restart').toEqual([]);
    for (const m of messages) expect(final.rows.get(m.event.id)?.seq ?? -1).toBeGreaterThanOrEqual(m.event.seq);
    expect(ffmpegWith([marker]), 'ffmpeg left after the clean stop').toEqual([]);
    // Not asserted (the brief of this suite does not ask it), but worth knowing: events that were in progress
    // at a kill keep no end for ever; the daemon does not close them when it starts again.
    console.log(`crash: after the clean stop ${final.rows.size} events up to seq ${final.maxSeq}, store intact; ` +
      `${final.open} events left without an end by the kills`);
  });
});
