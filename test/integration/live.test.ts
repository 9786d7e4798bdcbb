// The live view against real parts: the bundled ffmpeg, the test RTSP server on loopback (a child process
// tests can kill), a fastify app with only the live routes, and a real ws client where JSMpeg would be.
import { EventEmitter } from 'node:events';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { registerLiveRoutes } from '../../src/api/live-routes.js';
import { CameraSchema, type CameraConfig } from '../../src/config/schema.js';
import { bundledFfmpegPath } from '../../src/ingest/ffmpeg.js';
import { LiveView, type LiveStatus } from '../../src/live/live-view.js';
import { VigilMetrics } from '../../src/metrics/metrics.js';
import { patternClip, testsrcMp4 } from '../harness/media.js';
import { memoryLogger, type MemoryLogger } from '../harness/memory-logger.js';
import { startRtspServer, type RtspServerProcess } from '../harness/rtsp-process.js';
import { sleep, waitFor } from '../harness/wait.js';

const TS = 188;
const FILE_SECONDS = 5;
const PASSWORD = 'S3cr3t-pw';

interface Viewer {
  ws: WebSocket;
  chunks: Buffer[];
  bytes(): number;
  data(): Buffer;
  closed: Promise<{ code: number; reason: string }>;
}

let server: RtspServerProcess;
let flaky: RtspServerProcess;
let clip: string;
let file: string;
let cameras: CameraConfig[];
let log: MemoryLogger;
let metrics: VigilMetrics;
let live: LiveView;
let app: FastifyInstance;
let base: string;
const viewers: Viewer[] = [];
const extras: Array<{ live: LiveView; app: FastifyInstance }> = [];

/** The parts of a ws WebSocket the live view uses, with a send buffer the test sets. */
class StuckSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  sent = 0;
  first: Buffer | undefined;
  terminated = false;
  send(data: Buffer): void {
    this.first ??= data;
    this.sent++;
  }
  close(): void {
    this.readyState = 3;
    this.emit('close');
  }
  terminate(): void {
    this.terminated = true;
    this.close();
  }
}

function camera(name: string, url: string, enabled = true): CameraConfig {
  return CameraSchema.parse({ name, url, location: 'test yard', enabled });
}

async function liveApp(view: LiveView): Promise<{ app: FastifyInstance; base: string }> {
  const a = Fastify();
  await registerLiveRoutes(a, view);
  await a.listen({ host: '127.0.0.1', port: 0 });
  return { app: a, base: `127.0.0.1:${(a.server.address() as { port: number }).port}` };
}

function watch(name: string, opts: { origin?: string; at?: string } = {}): Viewer {
  const ws = new WebSocket(`ws://${opts.at ?? base}/api/live/${encodeURIComponent(name)}`, {
    ...(opts.origin ? { headers: { origin: opts.origin } } : {}),
  });
  const chunks: Buffer[] = [];
  ws.on('message', (d: Buffer, isBinary) => {
    expect(isBinary).toBe(true); // JSMpeg would feed a text frame to its demuxer
    chunks.push(d);
  });
  ws.on('error', () => {});
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  const viewer: Viewer = {
    ws,
    chunks,
    bytes: () => chunks.reduce((n, c) => n + c.length, 0),
    data: () => Buffer.concat(chunks),
    closed,
  };
  viewers.push(viewer);
  return viewer;
}

async function status(name: string): Promise<LiveStatus> {
  const res = await fetch(`http://${base}/api/live/${name}/status`);
  expect(res.status).toBe(200);
  return (await res.json()) as LiveStatus;
}

function transcoder(name: string) {
  return live.transcoders().find((t) => t.camera === name);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    expect((err as NodeJS.ErrnoException).code).toBe('ESRCH');
    return false;
  }
}

async function metricValue(name: string, labels: Record<string, string>): Promise<number | undefined> {
  const data = await metrics.registry.getSingleMetric(name)?.get();
  return data?.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;
}

/** The video elementary stream and its PMT stream type, from a transport stream that starts on a packet. */
function demux(ts: Buffer): { streamType: number | undefined; video: Buffer } {
  let pmtPid: number | undefined;
  let videoPid: number | undefined;
  let streamType: number | undefined;
  const video: Buffer[] = [];
  for (let at = 0; at + TS <= ts.length; at += TS) {
    const p = ts.subarray(at, at + TS);
    const start = (p[1]! & 0x40) !== 0;
    const pid = ((p[1]! & 0x1f) << 8) | p[2]!;
    const adaptation = (p[3]! >> 4) & 3;
    if (!(adaptation & 1)) continue;
    let payload = p.subarray(adaptation & 2 ? 5 + p[4]! : 4);
    if (pid === 0 && start && pmtPid === undefined) {
      const s = payload.subarray(1 + payload[0]!); // pointer field
      pmtPid = ((s[10]! & 0x1f) << 8) | s[11]!; // first program's PMT
    } else if (pid === pmtPid && start && videoPid === undefined) {
      const s = payload.subarray(1 + payload[0]!);
      const sectionEnd = 3 + (((s[1]! & 0x0f) << 8) | s[2]!) - 4;
      let i = 12 + (((s[10]! & 0x0f) << 8) | s[11]!);
      for (; i < sectionEnd; i += 5 + (((s[i + 3]! & 0x0f) << 8) | s[i + 4]!)) {
        if (s[i] === 0x01 || s[i] === 0x02) {
          streamType = s[i];
          videoPid = ((s[i + 1]! & 0x1f) << 8) | s[i + 2]!;
        }
      }
    } else if (pid === videoPid && (video.length > 0 || start)) {
      if (start) payload = payload.subarray(9 + payload[8]!); // PES header
      video.push(payload);
    }
  }
  return { streamType, video: Buffer.concat(video) };
}

function expectPacketSync(data: Buffer, packets: number): void {
  expect(data.length).toBeGreaterThanOrEqual(packets * TS);
  const misses = Array.from({ length: packets }, (_, i) => data[i * TS]).filter((b) => b !== 0x47);
  expect(misses).toEqual([]);
}

beforeAll(async () => {
  [clip, file] = await Promise.all([patternClip(640, 360, 25, 12), testsrcMp4(640, 360, 25, FILE_SECONDS)]);
  [server, flaky] = await Promise.all([
    startRtspServer([{ name: 'cam1', file: clip, fps: 25 }, { name: 'cam2', file: clip, fps: 25 }]),
    startRtspServer([{ name: 'cam1', file: clip, fps: 25 }], { auth: `officer:${PASSWORD}` }),
  ]);
  cameras = [
    camera('gate', server.url('cam1')),
    camera('yard', server.url('cam2')),
    camera('clip', file),
    camera('flaky', flaky.url('cam1', `officer:${PASSWORD}`)),
    camera('off', server.url('cam1'), false),
  ];
  log = memoryLogger();
  metrics = new VigilMetrics();
  live = new LiveView({
    ffmpegPath: bundledFfmpegPath(),
    cameras: () => cameras,
    logger: log.logger,
    metrics,
    timing: { backoffInitialMs: 200, backoffMaxMs: 1000, stallMs: 4000 },
  });
  ({ app, base } = await liveApp(live));
});

afterAll(async () => {
  if (process.env.LIVE_LOG) console.log(log.lines.join(''));
  for (const v of viewers) v.ws.terminate();
  await Promise.all([live?.stop(), ...extras.map((e) => e.live.stop())]);
  await Promise.all([app?.close(), ...extras.map((e) => e.app.close())]);
  await Promise.all([server?.stop(), flaky?.stop()]);
});

describe('live view', () => {
  let gatePid: number;
  let first: Viewer;
  let second: Viewer;

  it('sends an RTSP camera to a viewer as MPEG-1 video in MPEG-TS', async () => {
    first = watch('gate');
    await waitFor('200 packets of video', () => first.bytes() >= 200 * TS, 15_000);
    const data = first.data();
    expectPacketSync(data, 200);
    const { streamType, video } = demux(data);
    // ffmpeg's mpegts muxer labels MPEG-1 video 0x02 (MPEG-2), which can carry it; the bitstream decides.
    expect([0x01, 0x02]).toContain(streamType);
    const seq = video.indexOf(Buffer.from([0, 0, 1, 0xb3]));
    expect(seq).toBeGreaterThanOrEqual(0);
    const width = (video[seq + 4]! << 4) | (video[seq + 5]! >> 4);
    const height = ((video[seq + 5]! & 0x0f) << 8) | video[seq + 6]!;
    const frameRateCode = video[seq + 7]! & 0x0f;
    expect([width, height, frameRateCode]).toEqual([640, 360, 3]); // 3: 25 fps
    // MPEG-2 follows every sequence header with an extension (00 00 01 B5); MPEG-1 has none.
    expect(video.indexOf(Buffer.from([0, 0, 1, 0xb5]))).toBe(-1);

    expect(await status('gate')).toMatchObject({ state: 'playing', viewers: 1, restarts: 0 });
    gatePid = transcoder('gate')!.pid!;
    expect(gatePid).toBeGreaterThan(0);
    // ffmpeg's complaints reach the log at warn, with the camera (this server refuses UDP with 461).
    expect(log.records().some((r) => r.level === 'warn' && r.camera === 'gate' && String(r.ffmpeg).includes('461'))).toBe(true);
  });

  it('shares one transcoder between two viewers of a camera, each from a packet boundary', async () => {
    second = watch('gate');
    await waitFor('second viewer counted', () => transcoder('gate')?.viewers === 2, 5000);
    await waitFor('video for the second viewer', () => second.bytes() >= 50 * TS, 5000);
    expectPacketSync(second.data(), 50);
    expect(live.transcoders().filter((t) => t.camera === 'gate')).toEqual([{ camera: 'gate', pid: gatePid, viewers: 2 }]);
    expect(await metricValue('vigil_live_viewers', { camera: 'gate' })).toBe(2);
    expect(await metricValue('vigil_live_transcoder_starts_total', { camera: 'gate' })).toBe(1);
  });

  it('stops the transcoder when the last viewer leaves', async () => {
    first.ws.close();
    await waitFor('one viewer left', () => transcoder('gate')?.viewers === 1, 5000);
    expect(alive(gatePid)).toBe(true);
    second.ws.close();
    await waitFor('transcoder gone from the list', () => transcoder('gate') === undefined, 5000);
    // SIGTERM, SIGKILL 2 s later at worst.
    await waitFor('ffmpeg exited', () => !alive(gatePid), 4000);
    expect(live.transcoders()).toEqual([]);
    expect(await metricValue('vigil_live_viewers', { camera: 'gate' })).toBe(0);
    expect((await status('gate')).state).toBe('idle');
  });

  it('plays a file camera in real time and starts it again at its end', async () => {
    const v = watch('clip');
    await waitFor('first bytes of the file', () => v.bytes() > 0, 10_000);
    const pid = transcoder('clip')!.pid!;
    // Unpaced, ffmpeg would transcode the whole clip in well under a second and exit.
    const perSecond: number[] = [];
    for (let s = 0; s < 3; s++) {
      const before = v.bytes();
      await sleep(1000);
      perSecond.push(v.bytes() - before);
    }
    expect(transcoder('clip')!.pid).toBe(pid);
    expect(perSecond.every((n) => n > 20_000)).toBe(true); // about 1 Mbit/s each second
    expect(Math.max(...perSecond)).toBeLessThan(3 * Math.min(...perSecond));

    const next = (await waitFor('the file started again', () => {
      const p = transcoder('clip')?.pid;
      return p !== undefined && p !== pid ? p : undefined;
    }, (FILE_SECONDS + 3) * 1000))!;
    expect(alive(pid)).toBe(false);
    const before = v.bytes();
    await waitFor('video after the restart', () => v.bytes() > before + 50_000, 5000);
    expect(transcoder('clip')).toEqual({ camera: 'clip', pid: next, viewers: 1 });
    // The end of a file is not a failure.
    expect(await status('clip')).toMatchObject({ state: 'playing', restarts: 0 });
    v.ws.close();
    await waitFor('file transcoder exited', () => !alive(next), 4000);
  });

  it('refuses unknown and disabled cameras and other origins with their close codes', async () => {
    const unknown = await watch('nowhere').closed;
    expect(unknown).toEqual({ code: 4404, reason: 'unknown camera: nowhere' });
    expect(await watch('off').closed).toEqual({ code: 4409, reason: 'camera off is disabled' });
    const foreign = await watch('gate', { origin: 'http://evil.example' }).closed;
    expect(foreign.code).toBe(4403);
    // The same origin as the Host header is fine.
    const own = watch('yard', { origin: `http://${base}` });
    await waitFor('same-origin viewer gets video', () => own.bytes() > 0, 15_000);
    own.ws.close();
    expect(live.transcoders().find((t) => t.camera === 'gate' || t.camera === 'off' || t.camera === 'nowhere')).toBeUndefined();
    expect((await fetch(`http://${base}/api/live/nowhere/status`)).status).toBe(404);
  });

  it('restarts the transcoder when the camera dies and plays again when it returns, without leaking the password', async () => {
    const v = watch('flaky');
    await waitFor('flaky camera playing', async () => (await status('flaky')).state === 'playing', 15_000);
    const pid = transcoder('flaky')!.pid!;
    await flaky.kill();
    const retrying = (await waitFor('retrying', async () => {
      const s = await status('flaky');
      return s.state === 'retrying' && s.restarts >= 1 ? s : undefined;
    }, 10_000))!;
    expect(retrying.error).toBeTruthy();
    expect(alive(pid)).toBe(false);

    await flaky.restart();
    await waitFor('playing again', async () => (await status('flaky')).state === 'playing', 15_000);
    const before = v.bytes();
    await waitFor('video again', () => v.bytes() > before + 50_000, 10_000);
    expect(transcoder('flaky')!.pid).not.toBe(pid);
    expect(await metricValue('vigil_live_transcoder_starts_total', { camera: 'flaky' })).toBeGreaterThanOrEqual(2);
    // ffmpeg names the URL, password and all, when the connection is refused.
    const lines = log.lines.join('\n');
    expect(lines).toContain('rtsp://***@127.0.0.1');
    expect(lines).not.toContain(PASSWORD);
    expect(JSON.stringify(await status('flaky'))).not.toContain(PASSWORD);
    v.ws.close();
  });

  it('restarts a transcoder whose camera hangs', async () => {
    const v = watch('flaky');
    await waitFor('flaky camera playing', async () => (await status('flaky')).state === 'playing', 15_000);
    flaky.pause();
    try {
      // stallMs is 4 s here; ffmpeg alone would wait on the silent connection far longer.
      const s = (await waitFor('stall noticed', async () => {
        const st = await status('flaky');
        return st.state === 'retrying' ? st : undefined;
      }, 8000))!;
      expect(s.error).toMatch(/^no video for \d/);
    } finally {
      flaky.resume();
    }
    await waitFor('playing again', async () => (await status('flaky')).state === 'playing', 15_000);
    const before = v.bytes();
    await waitFor('video again', () => v.bytes() > before + 50_000, 10_000);
    v.ws.close();
  });

  it('skips chunks for a viewer that cannot keep up, then disconnects it, and the others never notice', async () => {
    const slowMetrics = new VigilMetrics();
    const own = new LiveView({
      ffmpegPath: bundledFfmpegPath(),
      cameras: () => cameras,
      logger: log.logger,
      metrics: slowMetrics,
      timing: { slowViewerMs: 2000 },
    });
    const served = await liveApp(own);
    extras.push({ live: own, app: served.app });
    const fast = watch('clip', { at: served.base });
    await waitFor('video', () => fast.bytes() > 0, 10_000);
    // Loopback TCP buffers take megabytes (a minute of this stream) before a real socket backs up, so the
    // slow viewer is a stand-in socket that says how much it has buffered.
    const slow = new StuckSocket();
    expect(own.attach('clip', slow as unknown as WebSocket)).toBe('attached');
    await waitFor('chunks sent to the slow viewer', () => slow.sent > 0, 5000);
    expect(slow.first?.[0]).toBe(0x47); // joined mid-stream, starts on a packet
    slow.bufferedAmount = 3 << 20;
    const sentBefore = slow.sent;
    const skipped = async () =>
      (await slowMetrics.registry.getSingleMetric('vigil_live_chunks_skipped_total')?.get())?.values.find((v) => v.labels.camera === 'clip')?.value ?? 0;
    await waitFor('chunks skipped', async () => (await skipped()) > 0, 5000);
    await waitFor('slow viewer disconnected', () => slow.terminated, 5000);
    expect(slow.sent).toBe(sentBefore);
    expect(own.transcoders()).toMatchObject([{ camera: 'clip', viewers: 1 }]);
    const before = fast.bytes();
    await waitFor('the other viewer still gets video', () => fast.bytes() > before + 50_000, 5000);
    await own.stop();
  });

  it('stop() closes every viewer and kills every transcoder', async () => {
    const own = new LiveView({ ffmpegPath: bundledFfmpegPath(), cameras: () => cameras, logger: log.logger });
    const served = await liveApp(own);
    extras.push({ live: own, app: served.app });
    const a = watch('gate', { at: served.base });
    const b = watch('clip', { at: served.base });
    await waitFor('both playing', () => a.bytes() > 0 && b.bytes() > 0, 15_000);
    const pids = own.transcoders().map((t) => t.pid!);
    expect(pids).toHaveLength(2);
    await own.stop();
    expect(pids.filter(alive)).toEqual([]);
    expect(own.transcoders()).toEqual([]);
    expect((await a.closed).code).toBe(1001);
    expect((await b.closed).code).toBe(1001);
    expect((await watch('gate', { at: served.base }).closed).code).toBe(1001);
  });
});
