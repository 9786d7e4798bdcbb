// The recording's harder cases with its real parts: a camera ingested by the real CameraSupervisor from the test
// RTSP server (real ffmpeg copying the stream into segments), the real store, and the EventClipper cutting
// clips for events put in the store over what was recorded. A long event is cut into consecutive clips; a
// camera that drops mid-clip gives a clip that ends where its stream ended and says so; a wall clock that
// jumps an hour back leaves recording times following it, clips made from the segments recorded after the
// jump, and a warning.
import { appendFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CameraSchema, RecordingSchema, type IngestConfig, type RecordConfig } from '../../src/config/schema.js';
import { EventStore, type StoredEvent } from '../../src/events/store.js';
import { CameraSupervisor } from '../../src/ingest/camera-supervisor.js';
import { probeFfmpeg, type FfmpegBinary } from '../../src/ingest/ffmpeg.js';
import { ASSEMBLIES_AT_ONCE, ClipAssembler, SegmentTamperedError } from '../../src/recording/clip-assembler.js';
import { EventClipper } from '../../src/recording/event-clipper.js';
import { filesUnder } from '../../src/recording/file-tree.js';
import { SegmentRecorder } from '../../src/recording/segment-recorder.js';
import { memoryLogger, type MemoryLogger } from '../harness/memory-logger.js';
import { ffmpegChildren } from '../harness/proc.js';
import { startRtspServer, type RtspServerProcess } from '../harness/rtsp-process.js';
import { streetClips } from '../harness/street-clips.js';
import { decodeErrors, videoInfo } from '../harness/video-probe.js';
import { sleep, waitFor } from '../harness/wait.js';

const GOP_S = 2;
const INGEST: IngestConfig = { stall_timeout_s: 3, startup_timeout_s: 6, backoff_initial_s: 0.5, backoff_max_s: 2, stable_after_s: 30 };
const RECORDING = RecordingSchema.parse({ segment_s: 1, ring_minutes: 10, min_free_mb: 0 });

let ffmpeg: FfmpegBinary;
let server: RtspServerProcess;

interface Rig {
  store: EventStore;
  supervisor: CameraSupervisor;
  clipper: EventClipper;
  log: MemoryLogger;
  data: string;
  /** What the recorder's wall clock says: the real one plus `shift`. */
  clock: { shift: number; now(): number };
}
let rig: Rig | undefined;

function startRig(record: RecordConfig): Rig {
  const data = mkdtempSync(path.join(os.tmpdir(), 'vigil-recording-parts-'));
  const store = EventStore.open(data, { flushMs: 20 });
  const log = memoryLogger('info');
  const clock = { shift: 0, now: () => Date.now() + clock.shift };
  const camera = CameraSchema.parse({ name: 'lot', url: server.url('lot'), location: 'parking lot', detect: { width: 320, height: 180, fps: 2 }, record });
  let supervisor: CameraSupervisor;
  const recorder = new SegmentRecorder('lot', record, {
    index: store.segments,
    root: path.join(data, 'recordings'),
    settings: () => RECORDING,
    logger: log.logger,
    now: clock.now,
    resume: () => void supervisor.restart(),
  });
  supervisor = new CameraSupervisor(camera, { ffmpeg, ingest: INGEST, logger: log.logger, recorder });
  const clipper = new EventClipper({
    store,
    assembler: new ClipAssembler(ffmpeg.path, store.segments, path.join(data, 'recordings')),
    root: path.join(data, 'clips'),
    record: () => record,
    settings: () => RECORDING,
    logger: log.logger,
  });
  supervisor.start();
  rig = { store, supervisor, clipper, log, data, clock };
  return rig;
}

async function clipsOf(r: Rig, id: number, parts: number, timeoutMs = 40_000): Promise<StoredEvent> {
  return (await waitFor(`${parts} clip(s) of event ${id}`, () => {
    const e = r.store.get(id)!;
    return e.clips.length >= parts ? e : undefined;
  }, timeoutMs, 200))!;
}

beforeAll(async () => {
  ffmpeg = await probeFfmpeg(null);
  const { lot } = await streetClips();
  server = await startRtspServer([lot]);
}, 120_000);

afterEach(async () => {
  if (!rig) return;
  await rig.supervisor.stop();
  await rig.clipper.close();
  rig.store.close();
  rig = undefined;
});

afterAll(async () => server?.stop());

describe('recording, the hard cases', () => {
  it('cuts a long event into consecutive clips of max_clip_s, each whole, the next starting where the last ended (within a GOP); continuous recording keeps its segments for retention_days', async () => {
    // Recorded continuously too: every segment is kept for retention_days, not only the ring's minutes.
    const r = startRig({ events: { pre_s: 2, post_s: 2, max_clip_s: 10 }, continuous: { retention_days: 2 } });
    await waitFor('recording', () => r.store.segments.newest('lot'), 20_000, 100);
    const t0 = r.store.segments.newest('lot')!.start;
    expect(r.store.segments.newest('lot')!.keepUntil! - Date.now()).toBeGreaterThan(2 * 86_400_000 - 60_000);
    // An event from t0+3 s to t0+25 s: with 2 s either side, 26 s in three parts of at most 10 s.
    const event = await r.store.insert({ kind: 'motion', camera: 'lot', location: 'parking lot', start: t0 + 3000, end: t0 + 25_000 });
    const done = await clipsOf(r, event.id, 3, 60_000);
    const clips = done.clips;
    expect(clips).toHaveLength(3);
    const wanted = [10, 10, 6];
    clips.forEach((clip, i) => {
      const file = path.join(r.data, 'clips', clip.path);
      expect(decodeErrors(file)).toBe('');
      const duration = videoInfo(file).durationS;
      expect(duration).toBeGreaterThanOrEqual(wanted[i]! - 0.3);
      expect(duration).toBeLessThanOrEqual(wanted[i]! + GOP_S + 0.3);
      expect(clip.truncated).toBe(false);
      if (i > 0) {
        // Consecutive: no gap between parts, and no more overlap than the keyframe the next one starts at.
        expect(clip.start).toBeLessThanOrEqual(clips[i - 1]!.end + 100);
        expect(clip.start).toBeGreaterThanOrEqual(clips[i - 1]!.end - GOP_S * 1000 - 100);
      }
    });
    expect(clips[0]!.start).toBeLessThanOrEqual(t0 + 1000 + 100);
    expect(clips[2]!.end).toBe(t0 + 27_000);
  }, 120_000);

  it(`assembles at most ${ASSEMBLIES_AT_ONCE} clips at once: events that end together wait their turn, and each gets its clip`, async () => {
    const r = startRig({ events: { pre_s: 1, post_s: 1, max_clip_s: 60 }, continuous: false });
    await waitFor('recording', () => r.store.segments.newest('lot'), 20_000, 100);
    const t0 = r.store.segments.newest('lot')!.start;
    await waitFor('10 s recorded', () => r.store.segments.newest('lot')!.end >= t0 + 10_000, 30_000, 100);
    // The ffmpeg children of this process that assemble clips, counted every few ms while the burst runs.
    let most = 0;
    let samples = 0;
    const sampler = setInterval(() => {
      most = Math.max(most, ffmpegChildren(process.pid).clips.length);
      samples++;
    }, 2);
    try {
      // Eight events ending at once, as on a busy street, each window wholly recorded: all are due now.
      const events = await Promise.all(Array.from({ length: 8 }, (_, i) =>
        r.store.insert({ kind: 'motion', camera: 'lot', location: 'parking lot', start: t0 + 1000 + i * 200, end: t0 + 6000 + i * 300 })));
      for (const event of events) {
        const done = await clipsOf(r, event.id, 1);
        expect(decodeErrors(path.join(r.data, 'clips', done.clips[0]!.path)), `event ${event.id}'s clip decodes`).toBe('');
      }
    } finally {
      clearInterval(sampler);
    }
    expect(samples, 'the sampler ran').toBeGreaterThan(10);
    expect(most, 'clip assemblers seen at once').toBeGreaterThanOrEqual(1);
    expect(most, 'clip assemblers at once').toBeLessThanOrEqual(ASSEMBLIES_AT_ONCE);
  }, 120_000);

  it('refuses a clip when a segment changed since it was recorded, even past where ffmpeg stopped reading it, and leaves no file', async () => {
    const r = startRig({ events: { pre_s: 1, post_s: 1, max_clip_s: 60 }, continuous: false });
    await waitFor('recording', () => r.store.segments.newest('lot'), 20_000, 100);
    const t0 = r.store.segments.newest('lot')!.start;
    await waitFor('6 s recorded', () => r.store.segments.newest('lot')!.end >= t0 + 6000, 30_000, 100);
    const recordings = path.join(r.data, 'recordings');
    const root = path.join(r.data, 'clips');
    const assembler = new ClipAssembler(ffmpeg.path, r.store.segments, recordings);
    const segments = assembler.segmentsFor('lot', t0, t0 + 6000);
    expect(segments.length, 'segments of 1 s in 6 s').toBeGreaterThanOrEqual(4);
    // A window ending a fifth of a second into its third segment: ffmpeg has what it needs early in that file.
    const last = segments[2]!;
    const window = { camera: 'lot', from: segments[0]!.start, to: last.start + 200 };
    const whole = await assembler.assemble({ ...window, name: 'before' }, root);
    expect(decodeErrors(path.join(root, whole.path))).toBe('');
    // Bytes added after the part ffmpeg reads: only the hash of the whole segment can tell.
    appendFileSync(path.join(recordings, last.path), Buffer.alloc(4 * 1024 * 1024, 0x47));
    await expect(assembler.assemble({ ...window, name: 'after' }, root)).rejects.toThrow(SegmentTamperedError);
    expect([...filesUnder(root)].map((f) => path.basename(f)), 'no clip or partial from the changed segment').toEqual(['before.mp4']);
  }, 90_000);

  it('ends the clip of a camera that dropped mid-clip where its stream ended, and says so', async () => {
    const r = startRig({ events: { pre_s: 2, post_s: 10, max_clip_s: 60 }, continuous: false });
    await waitFor('recording', () => r.store.segments.newest('lot'), 20_000, 100);
    await sleep(4000);
    const event = await r.store.insert({ kind: 'motion', camera: 'lot', location: 'parking lot', start: Date.now() - 3000, end: Date.now() - 1000 });
    // The camera loses power inside the 10 s after the event.
    await sleep(1500);
    const droppedAt = Date.now();
    await server.kill();
    try {
      const done = await clipsOf(r, event.id, 1);
      const clip = done.clips[0]!;
      expect(clip.truncated).toBe(true);
      const file = path.join(r.data, 'clips', clip.path);
      expect(decodeErrors(file)).toBe('');
      // It stops where the video stopped: about when the server died, well before the 10 s after the event.
      expect(clip.end).toBeLessThan(event.end! + 10_000 - 3000);
      expect(Math.abs(clip.end - droppedAt)).toBeLessThan(2500);
      expect(Math.abs(videoInfo(file).durationS - (clip.end - clip.start) / 1000)).toBeLessThan(0.5);
    } finally {
      await server.restart();
    }
  }, 90_000);

  it('follows a wall clock that jumps an hour back: a warning, segments in recording order, clips from what was recorded after the jump', async () => {
    const r = startRig({ events: { pre_s: 1, post_s: 1, max_clip_s: 60 }, continuous: false });
    await waitFor('recording', () => r.store.segments.newest('lot'), 20_000, 100);
    await sleep(5000);
    const before = r.store.segments.newest('lot')!;
    r.clock.shift = -3_600_000;
    await waitFor('segments after the jump', () => (r.store.segments.newest('lot')!.idx >= before.idx + 3 ? true : undefined), 20_000, 200);
    expect(r.log.records().some((l) => String(l.msg).includes('the wall clock jumped'))).toBe(true);
    const after = r.store.segments.newest('lot')!;
    expect(after.start).toBeLessThan(before.start - 3_500_000);
    // The index keeps the order they were recorded in, whatever their times say.
    const all = r.store.segments.window('lot', 0, Number.MAX_SAFE_INTEGER);
    expect(all.map((s) => s.idx)).toEqual([...all.map((s) => s.idx)].sort((a, b) => a - b));
    // An event as the jumped clock tells it: its clip is cut from the segments recorded after the jump.
    const now = r.clock.now();
    const event = await r.store.insert({ kind: 'motion', camera: 'lot', location: 'parking lot', start: now - 3000, end: now - 1000 });
    const done = await clipsOf(r, event.id, 1);
    const clip = done.clips[0]!;
    expect(clip.start).toBeLessThan(before.start - 3_500_000);
    const file = path.join(r.data, 'clips', clip.path);
    expect(decodeErrors(file)).toBe('');
    expect(videoInfo(file).durationS).toBeGreaterThanOrEqual(4 - 0.3);
    expect(videoInfo(file).durationS).toBeLessThanOrEqual(4 + GOP_S + 0.3);
  }, 90_000);
});
