// Camera ingest against a real RTSP server on loopback and the real bundled ffmpeg.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CameraSchema, type CameraConfig, type IngestConfig } from '../../src/config/schema.js';
import { CameraSupervisor } from '../../src/ingest/camera-supervisor.js';
import { probeFfmpeg, type FfmpegBinary } from '../../src/ingest/ffmpeg.js';
import { VigilMetrics } from '../../src/metrics/metrics.js';
import { patternClip } from '../harness/media.js';
import { memoryLogger, type MemoryLogger } from '../harness/memory-logger.js';
import { readPatternFrame, RED, BLUE, type PatternReading } from '../harness/pattern.js';
import { closedPort, startRtspServer, type RtspServerProcess } from '../harness/rtsp-process.js';
import { sleep, waitFor } from '../harness/wait.js';

const SOURCE_FPS = 25;
const INGEST: IngestConfig = {
  stall_timeout_s: 2,
  startup_timeout_s: 4,
  backoff_initial_s: 0.2,
  backoff_max_s: 1,
  stable_after_s: 30,
};

interface Seen {
  seq: number;
  capturedAt: number;
  size: number;
  width: number;
  height: number;
  reading: PatternReading;
}

let ffmpeg: FfmpegBinary;
let clip: string;
let server: RtspServerProcess;
const running: CameraSupervisor[] = [];

function camera(name: string, url: string, detect = { width: 320, height: 180, fps: 5 }): CameraConfig {
  return CameraSchema.parse({ name, url, location: 'test yard', detect });
}

function watch(config: CameraConfig, log: MemoryLogger, metrics = new VigilMetrics()) {
  const supervisor = new CameraSupervisor(config, { ffmpeg, ingest: INGEST, logger: log.logger, observer: metrics });
  const frames: Seen[] = [];
  supervisor.setConsumer((frame) => {
    frames.push({
      seq: frame.seq,
      capturedAt: frame.capturedAt,
      size: frame.data.length,
      width: frame.width,
      height: frame.height,
      reading: readPatternFrame(frame.data, frame.width, frame.height),
    });
  });
  metrics.setStatusSource({ cameras: () => [supervisor.status()] });
  supervisor.start();
  running.push(supervisor);
  return { supervisor, frames, metrics };
}

async function metricValue(metrics: VigilMetrics, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metric = metrics.registry.getSingleMetric(name);
  const data = await metric?.get();
  const value = data?.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x));
  return value?.value;
}

beforeAll(async () => {
  [ffmpeg, clip] = await Promise.all([probeFfmpeg(null), patternClip(640, 360, SOURCE_FPS, 12)]);
  server = await startRtspServer([
    { name: 'cam1', file: clip, fps: SOURCE_FPS },
    { name: 'cam2', file: clip, fps: SOURCE_FPS },
  ]);
});

afterAll(async () => {
  await Promise.all(running.map((s) => s.stop()));
  await server?.stop();
});

describe('camera ingest over RTSP', () => {
  it('delivers intact frames at the detect size and rate from two cameras at once', async () => {
    const log = memoryLogger();
    const a = watch(camera('cam-a', server.url('cam1')), log);
    const b = watch(camera('cam-b', server.url('cam2'), { width: 256, height: 144, fps: 2.5 }), log);
    await waitFor('first frames', () => a.frames.length > 0 && b.frames.length > 0);
    const startA = a.frames.length, startB = b.frames.length;
    await sleep(6000);
    const gotA = a.frames.length - startA, gotB = b.frames.length - startB;
    // 6 s at 5 and 2.5 fps, allowing for timer and pipe jitter.
    expect(gotA).toBeGreaterThanOrEqual(27);
    expect(gotA).toBeLessThanOrEqual(33);
    expect(gotB).toBeGreaterThanOrEqual(13);
    expect(gotB).toBeLessThanOrEqual(17);
    expect(a.supervisor.status()).toMatchObject({ state: 'up', restarts: 0 });
    // The 10 s window still holds the first second, when ffmpeg delivers the frames it buffered at connect.
    expect(a.supervisor.status().fps).toBeGreaterThan(4.5);
    expect(a.supervisor.status().fps).toBeLessThan(6);

    for (const [frames, width, height, step] of [[a.frames, 320, 180, 5], [b.frames, 256, 144, 10]] as const) {
      for (const f of frames) {
        expect([f.width, f.height, f.size]).toEqual([width, height, (width * height * 3) / 2]);
        // Colour squares where they belong in the U and V planes: the planes are not shifted or mixed.
        expect(Math.abs(f.reading.red.u - RED.u)).toBeLessThan(12);
        expect(Math.abs(f.reading.red.v - RED.v)).toBeLessThan(12);
        expect(Math.abs(f.reading.blue.u - BLUE.u)).toBeLessThan(12);
        expect(Math.abs(f.reading.blue.y - BLUE.y)).toBeLessThan(12);
      }
      // The frame numbers drawn into the source advance by source fps / detect fps: no frame mixes two
      // source frames, and ffmpeg's fps filter picked evenly spaced ones.
      const numbers = frames.map((f) => f.reading.frameNumber);
      const steps = numbers.slice(1).map((n, i) => n - numbers[i]!).filter((d) => d > 0);
      const wraps = numbers.slice(1).filter((n, i) => n < numbers[i]!).length;
      expect(wraps).toBeLessThanOrEqual(1); // the 12 s clip loops at most once in this test
      expect(steps.filter((d) => d === step).length).toBeGreaterThanOrEqual(steps.length - 2);
      expect(frames.map((f) => f.seq)).toEqual(frames.map((_, i) => i));
      const times = frames.map((f) => f.capturedAt);
      expect(times.slice(1).every((t, i) => t >= times[i]!)).toBe(true);
    }
  });

  it('marks a camera down when its server dies, retries with back-off, and resumes when it returns', async () => {
    const clipServer = await startRtspServer([{ name: 'cam1', file: clip, fps: SOURCE_FPS }]);
    const log = memoryLogger();
    const { supervisor, frames, metrics } = watch(camera('cam-k', clipServer.url('cam1')), log);
    try {
      await waitFor('camera up', () => supervisor.state === 'up');
      expect(await metricValue(metrics, 'vigil_camera_up', { camera: 'cam-k' })).toBe(1);

      await clipServer.kill();
      await waitFor('camera down', () => supervisor.state === 'down', 5000);
      expect(await metricValue(metrics, 'vigil_camera_up', { camera: 'cam-k' })).toBe(0);
      // While the server is gone every retry is refused, and each retry is counted.
      await waitFor('two restarts', () => supervisor.status().restarts >= 2, 8000);
      expect(await metricValue(metrics, 'vigil_camera_restarts_total', { camera: 'cam-k' })).toBeGreaterThanOrEqual(2);
      expect(await metricValue(metrics, 'vigil_camera_errors_total', { camera: 'cam-k', kind: 'refused' })).toBeGreaterThanOrEqual(1);
      expect(supervisor.status().lastError?.kind).toBe('refused');
      const warnings = log.records().filter((r) => r.level === 'warn' && r.camera === 'cam-k');
      expect(warnings.some((r) => String(r.msg).includes('connection refused'))).toBe(true);
      expect(warnings.every((r) => typeof r.retry_in_s === 'number' && (r.retry_in_s as number) <= INGEST.backoff_max_s)).toBe(true);

      const before = frames.length;
      await clipServer.restart();
      await waitFor('frames again', () => supervisor.state === 'up' && frames.length > before + 5, 15_000);
      expect(await metricValue(metrics, 'vigil_camera_up', { camera: 'cam-k' })).toBe(1);
    } finally {
      await supervisor.stop();
      await clipServer.stop();
    }
  });

  it('detects a hung server with the stall watchdog and recovers when it wakes', async () => {
    const clipServer = await startRtspServer([{ name: 'cam1', file: clip, fps: SOURCE_FPS }]);
    const log = memoryLogger();
    const { supervisor, frames, metrics } = watch(camera('cam-h', clipServer.url('cam1')), log);
    try {
      await waitFor('camera up', () => supervisor.state === 'up');
      clipServer.pause();
      const pausedAt = Date.now();
      await waitFor('stall detected', () => supervisor.state === 'down', 10_000);
      // ffmpeg alone would hang for ever (or ~12 s with its socket timeout); the watchdog acts after 2 s.
      expect(Date.now() - pausedAt).toBeLessThan(INGEST.stall_timeout_s * 1000 + 2500);
      expect(supervisor.status().lastError?.kind).toBe('stall');
      expect(await metricValue(metrics, 'vigil_camera_errors_total', { camera: 'cam-h', kind: 'stall' })).toBe(1);
      expect(await metricValue(metrics, 'vigil_camera_up', { camera: 'cam-h' })).toBe(0);

      const before = frames.length;
      clipServer.resume();
      await waitFor('frames again', () => supervisor.state === 'up' && frames.length > before + 5, 20_000);
    } finally {
      await supervisor.stop();
      await clipServer.stop();
    }
  });

  it('reports a wrong mount and a closed port clearly, backs off, and leaves other cameras alone', async () => {
    const log = memoryLogger();
    const good = watch(camera('cam-good', server.url('cam1')), log);
    const wrongMount = watch(camera('cam-404', server.url('nope')), log);
    const closed = watch(camera('cam-closed', `rtsp://127.0.0.1:${await closedPort()}/cam1`), log);
    await waitFor('good camera up', () => good.supervisor.state === 'up');
    await waitFor('two retries each', () => wrongMount.supervisor.status().restarts >= 2 && closed.supervisor.status().restarts >= 2, 10_000);

    expect(wrongMount.supervisor.status()).toMatchObject({ state: 'failed', lastError: { kind: 'not_found' } });
    expect(closed.supervisor.status()).toMatchObject({ state: 'down', lastError: { kind: 'refused' } });
    const messages = (name: string) => log.records().filter((r) => r.camera === name && r.level === 'warn').map((r) => String(r.msg));
    expect(messages('cam-404')[0]).toBe('camera failed: the camera answered 404 Not Found: the stream path in the URL is wrong');
    expect(messages('cam-closed')[0]).toMatch(/^camera down: connection refused/);

    // Back-off: the gaps between retries grow (0.1-0.2 s, then 0.2-0.4 s, ...), capped at 1 s.
    const retries = log.records().filter((r) => r.camera === 'cam-closed' && r.level === 'warn').map((r) => r.retry_in_s as number);
    expect(retries[0]).toBeLessThanOrEqual(0.2);
    expect(Math.max(...retries)).toBeLessThanOrEqual(1);

    // The good camera never noticed.
    expect(good.supervisor.status()).toMatchObject({ state: 'up', restarts: 0 });
    const before = good.frames.length;
    await sleep(2000);
    expect(good.frames.length - before).toBeGreaterThanOrEqual(8);
    await Promise.all([good, wrongMount, closed].map((c) => c.supervisor.stop()));
  });

  it('rejects wrong credentials as failed, accepts right ones, and never logs the password', async () => {
    const secure = await startRtspServer([{ name: 'cam1', file: clip, fps: SOURCE_FPS }], { auth: 'officer:S3cr3t-pw' });
    const log = memoryLogger('trace');
    try {
      const wrong = watch(camera('cam-badpw', secure.url('cam1', 'officer:wrong-pw')), log);
      const right = watch(camera('cam-goodpw', secure.url('cam1', 'officer:S3cr3t-pw')), log);
      await waitFor('right credentials up', () => right.supervisor.state === 'up');
      await waitFor('wrong credentials failed', () => wrong.supervisor.state === 'failed', 10_000);
      expect(wrong.supervisor.status().lastError?.kind).toBe('unauthorized');
      expect(right.supervisor.status().url).toBe(`rtsp://***@127.0.0.1:${secure.port}/cam1`);
      const all = log.lines.join('\n');
      expect(all).toContain('rejected the credentials (401 Unauthorized)');
      expect(all).toContain('rtsp://***@127.0.0.1');
      expect(all).not.toContain('S3cr3t-pw');
      expect(all).not.toContain('wrong-pw');
      const exposition = await right.metrics.text();
      expect(exposition).not.toContain('S3cr3t-pw');
      await Promise.all([wrong.supervisor.stop(), right.supervisor.stop()]);
    } finally {
      await secure.stop();
    }
  });

  it('reports a file that is not video as invalid data and marks the camera failed', async () => {
    const garbage = path.join(mkdtempSync(path.join(os.tmpdir(), 'vigil-garbage-')), 'garbage.mp4');
    writeFileSync(garbage, randomBytes(200_000));
    const log = memoryLogger();
    const { supervisor } = watch(camera('cam-garbage', garbage), log);
    await waitFor('camera failed', () => supervisor.state === 'failed', 10_000);
    expect(supervisor.status().lastError?.kind).toBe('invalid_data');
    expect(log.records().some((r) => r.level === 'warn' && String(r.msg).includes('invalid data'))).toBe(true);
    await supervisor.stop();
  });

  it('plays a video file as a looping real-time camera', async () => {
    const log = memoryLogger();
    const { supervisor, frames } = watch(camera('cam-file', clip), log);
    await waitFor('frames from the file', () => frames.length >= 10, 15_000);
    // Real time: 10 frames at 5 fps take about 2 s, not the milliseconds a plain decode would.
    expect(frames[9]!.capturedAt - frames[0]!.capturedAt).toBeGreaterThan(1500);
    await supervisor.stop();
    expect(supervisor.state).toBe('stopped');
  });
});
