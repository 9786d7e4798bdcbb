// Recording cost, in one run on this machine (ratios within the run; no absolute timing is asserted):
//  1. CPU per camera with recording off and on: N cameras of real street footage over RTSP on loopback, each
//     an ffmpeg with exactly the daemon's cameraArgs() (detect 640x360 @ 5 fps), on runs followed by the real
//     SegmentRecorder's output arguments (fd 3 piped and attached, so segments are hashed and indexed in a
//     real EventStore). Off and on alternate (off, on, on, off) to cancel drift; node's own CPU counts too.
//  2. Disk per camera-hour at a sub-stream and a main-stream bit rate, from the indexed segments' bytes; the
//     index rows per hour and their own bytes in SQLite; the ring (recording.ring_minutes) in MB.
//  3. Clip assembly (ClipAssembler.assemble(), copying) of 10 s and 60 s clips from those segments, against
//     decoding the same span.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { CameraSchema, RecordingSchema } from '../src/config/schema.js';
import { EventStore } from '../src/events/store.js';
import { cameraArgs, probeFfmpeg, type FfmpegBinary } from '../src/ingest/ffmpeg.js';
import { createLogger } from '../src/log/logger.js';
import { readProcessCpuSeconds } from '../src/metrics/process-cpu.js';
import { ClipAssembler } from '../src/recording/clip-assembler.js';
import type { Segment } from '../src/recording/segment-index.js';
import { SegmentRecorder } from '../src/recording/segment-recorder.js';
import { testsrcClip } from '../test/harness/media.js';
import { startRtspServer, type MountSpec, type RtspServerProcess } from '../test/harness/rtsp-process.js';
import { streetClips } from '../test/harness/street-clips.js';
import { sleep, waitFor } from '../test/harness/wait.js';
import { treeCpu } from './cpu.js';

const DETECT = { width: 640, height: 360, fps: 5 };
/** Connect and past the connect burst before a measurement starts. */
const WARMUP_MS = 6000;
const CLIP_LENGTHS_S = [10, 60];
const CLIP_RUNS = 3;
const RECORDING = RecordingSchema.parse({});

const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' / ');
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;

function cpuModel(): string {
  try {
    return /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  } catch {
    return os.cpus()[0]?.model ?? 'unknown';
  }
}

/** CPU seconds of this process's waited-for children (ffmpeg runs that have ended), from /proc/self/stat. */
function reapedChildrenCpu(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

const nodeCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** The child exited and its pipes (fd 3's last announcements) are read to the end. */
function closed(child: ChildProcess): Promise<void> {
  return new Promise((r) => {
    if ((child.exitCode !== null || child.signalCode !== null) && child.stdout?.readableEnded !== false) r();
    else child.once('close', () => r());
  });
}

/** A temporary data dir with a real EventStore (its SegmentIndex) and a recordings folder. */
function tempStore(name: string): { dir: string; store: EventStore; recordings: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `vigil-bench-record-${name}-`));
  return { dir, store: EventStore.open(dir), recordings: path.join(dir, 'recordings') };
}

interface Camera {
  name: string;
  child: ChildProcess;
  recorder: SegmentRecorder | undefined;
  frameBytes: number;
  stopping: boolean;
}

/**
 * One camera as the daemon runs it: cameraArgs(), then (when recording) the recorder's output arguments, fd 3
 * piped and attached; its frames are read here and thrown away, as a consumer would take them.
 */
function startCamera(ffmpeg: FfmpegBinary, name: string, url: string, recording: { store: EventStore; recordings: string } | undefined): Camera {
  const camera = CameraSchema.parse({ name, url, location: 'bench', detect: DETECT });
  const args = cameraArgs(camera, ffmpeg, { socketTimeoutS: 30, decodeThreads: 1 }); // the daemon's default decode threads
  const recorder = recording
    ? new SegmentRecorder(name, camera.record, {
        index: recording.store.segments,
        root: recording.recordings,
        settings: () => RECORDING,
        logger: createLogger('warn'),
        resume: () => {},
      })
    : undefined;
  const output = recorder?.outputArgs() ?? [];
  if (recorder && output.length === 0) throw new Error(`camera ${name}: SegmentRecorder.outputArgs() gave no arguments (recording paused? min_free_mb ${RECORDING.min_free_mb})`);
  const child = spawn(ffmpeg.path, [...args, ...output], { stdio: ['ignore', 'pipe', 'pipe', output.length ? 'pipe' : 'ignore'] });
  if (recorder) recorder.attach(child.stdio[3] as Readable | null);
  const cam: Camera = { name, child, recorder, frameBytes: 0, stopping: false };
  child.stdout!.on('data', (d: Buffer) => (cam.frameBytes += d.length));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  child.on('exit', (code, signal) => {
    if (!cam.stopping) console.error(`record bench: ffmpeg of ${name} exited (${signal ?? code}) before it was stopped: ${stderr.trim().split('\n').pop()}`);
  });
  return cam;
}

async function stopCameras(cams: Camera[]): Promise<void> {
  for (const c of cams) {
    c.stopping = true;
    c.child.kill('SIGTERM'); // as the daemon stops it: ffmpeg closes its last segment and announces it
  }
  await Promise.all(cams.map((c) => closed(c.child)));
  await Promise.all(cams.map((c) => c.recorder?.runEnded([])));
  for (const c of cams) c.recorder?.stop();
}

async function waitFrames(cams: Camera[]): Promise<void> {
  await waitFor('every camera giving frames', () => cams.every((c) => c.frameBytes > 0), 30_000);
}

// ---- 1. CPU, recording off vs on ----

interface Phase {
  on: boolean;
  ffmpegCpu: number;
  nodeCpu: number;
  seconds: number;
  segments: number;
}

async function cpuPhase(ffmpeg: FfmpegBinary, server: RtspServerProcess, mounts: MountSpec[], n: number, seconds: number, on: boolean): Promise<Phase> {
  const rec = on ? tempStore('cpu') : undefined;
  const cams = Array.from({ length: n }, (_, i) => startCamera(ffmpeg, `cam${i + 1}`, server.url(mounts[i % mounts.length]!.name), rec));
  try {
    await waitFrames(cams);
    await sleep(WARMUP_MS);
    const pids = cams.map((c) => c.child.pid!);
    const countRows = () => (rec ? (rec.store.segments.paths().size) : 0);
    const rows0 = countRows();
    const f0 = treeCpu(pids);
    const n0 = nodeCpu();
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const f1 = treeCpu(pids);
    const n1 = nodeCpu();
    const elapsed = (performance.now() - t0) / 1000;
    if (cams.some((c) => c.child.exitCode !== null || c.child.signalCode !== null)) throw new Error('an ffmpeg exited during the measurement');
    return { on, ffmpegCpu: f1 - f0, nodeCpu: n1 - n0, seconds: elapsed, segments: countRows() - rows0 };
  } finally {
    await stopCameras(cams);
    if (rec) {
      rec.store.close();
      rmSync(rec.dir, { recursive: true, force: true });
    }
  }
}

async function cpuTable(ffmpeg: FfmpegBinary, n: number, seconds: number): Promise<string> {
  const street = await streetClips(); // fails naming the missing fixture
  const mounts = [street.campus, street.lot];
  const server = await startRtspServer(mounts);
  const phases: Phase[] = [];
  try {
    for (const on of [false, true, true, false]) {
      const p = await cpuPhase(ffmpeg, server, mounts, n, seconds, on);
      phases.push(p);
      console.error(`record cpu ${on ? 'on ' : 'off'}: ffmpeg ${p.ffmpegCpu.toFixed(2)} CPU-s, node ${p.nodeCpu.toFixed(2)} CPU-s over ${p.seconds.toFixed(1)} s, ${p.segments} segments indexed`);
    }
  } finally {
    await server.stop();
  }
  const perCamMin = (cpu: number, p: Phase) => cpu / (n * (p.seconds / 60));
  const mean = (on: boolean, f: (p: Phase) => number) => {
    const ps = phases.filter((p) => p.on === on);
    return ps.reduce((s, p) => s + f(p), 0) / ps.length;
  };
  const ffOff = mean(false, (p) => perCamMin(p.ffmpegCpu, p));
  const ffOn = mean(true, (p) => perCamMin(p.ffmpegCpu, p));
  const ndOff = mean(false, (p) => perCamMin(p.nodeCpu, p));
  const ndOn = mean(true, (p) => perCamMin(p.nodeCpu, p));
  const segsPerCamMin = mean(true, (p) => p.segments / (n * (p.seconds / 60)));
  const row = (label: string, ff: number, nd: number) => `| ${label} | ${ff.toFixed(3)} | ${nd.toFixed(3)} | ${(ff + nd).toFixed(3)} |`;
  const phaseRows = phases.map((p, i) =>
    `| ${i + 1} | ${p.on ? 'on' : 'off'} | ${perCamMin(p.ffmpegCpu, p).toFixed(3)} | ${perCamMin(p.nodeCpu, p).toFixed(3)} | ${p.on ? (p.segments / (n * (p.seconds / 60))).toFixed(1) : '–'} |`);
  const totalOff = ffOff + ndOff;
  const totalOn = ffOn + ndOn;
  return [
    `Recording CPU: ${n} cameras of real street footage (campus 960x720 @ 10 fps ~1.3 Mbit/s, lot 1280x720 @ 12.5 fps ~0.9 Mbit/s, GOP 2 s, alternating) over RTSP/TCP on loopback, ` +
      `each one ffmpeg with the daemon's cameraArgs() (detect ${DETECT.width}x${DETECT.height} @ ${DETECT.fps} fps, 1 decode thread, frames read by node), recording adds SegmentRecorder.outputArgs() ` +
      `(copy into MPEG-TS segments, segment_s ${RECORDING.segment_s}, list on fd 3, hashed and indexed in a real EventStore). Phases off, on, on, off, ${seconds} s each after ${WARMUP_MS / 1000} s warm-up. ` +
      'CPU seconds per camera-minute; "node" is this process (reading frames; when on, also reading, hashing and indexing segments). The RTSP server (its own process) is not counted.',
    '',
    '| phase | recording | ffmpeg CPU-s per camera-minute | node CPU-s per camera-minute | segments indexed per camera-minute |',
    '|---:|:---|---:|---:|---:|',
    ...phaseRows,
    '',
    '| mean of the phases | ffmpeg CPU-s per camera-minute | node CPU-s per camera-minute | total |',
    '|:---|---:|---:|---:|',
    row('recording off', ffOff, ndOff),
    row('recording on', ffOn, ndOn),
    row('recording\'s cost (on − off)', ffOn - ffOff, ndOn - ndOff),
    '',
    `Overhead of recording: ffmpeg ${pct(ffOn / ffOff - 1)}, vigil's node-side recording work ${(ndOn - ndOff).toFixed(3)} CPU-s per camera-minute ` +
      `(${pct((ndOn - ndOff) / totalOff)} of the off total), total ${pct(totalOn / totalOff - 1)} (target ≤ +5 %); ${segsPerCamMin.toFixed(1)} segments indexed per camera-minute.`,
  ].join('\n');
}

// ---- 2. Disk per camera-hour, and 3. clip assembly ----

interface Rate {
  label: string;
  width: number;
  height: number;
  bitrate: string;
  clip: string;
  clipBitsPerSecond: number;
}

const FPS = 25;
const SOURCE_SECONDS = 20;

async function rates(): Promise<Rate[]> {
  const specs = [
    { label: 'sub-stream 640x360', width: 640, height: 360, bitrate: '512k' },
    { label: 'main stream 1920x1080', width: 1920, height: 1080, bitrate: '4M' },
  ];
  const out: Rate[] = [];
  for (const s of specs) {
    const clip = await testsrcClip(s.width, s.height, FPS, SOURCE_SECONDS, s.bitrate);
    out.push({ ...s, clip, clipBitsPerSecond: (statSync(clip).size * 8) / SOURCE_SECONDS });
  }
  return out;
}

interface Recorded {
  rate: Rate;
  camera: string;
  segments: Segment[];
  /** Stream seconds the segments cover. */
  seconds: number;
  bytes: number;
  rowPayload: number | undefined;
  rowPages: number | undefined;
}

/** SQLite's own bytes for the segments table and its indexes (dbstat), on a second connection to the store's file. */
function indexBytes(file: string): { payload: number; pages: number } | undefined {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(`SELECT SUM(payload) AS payload, SUM(pgsize) AS pages FROM dbstat
      WHERE name IN ('segments', 'segments_camera_end', 'segments_start', 'sqlite_autoindex_segments_1')`).get() as { payload: number; pages: number };
  } catch {
    return undefined; // dbstat needs SQLITE_ENABLE_DBSTAT_VTAB
  } finally {
    db.close();
  }
}

/** Decodes the same segments (as the clip would hold them) for `seconds`, output thrown away: wall and CPU. */
async function decodeSpan(ffmpegPath: string, recordings: string, segments: Segment[], seconds: number): Promise<{ wall: number; cpu: number }> {
  const c0 = reapedChildrenCpu();
  const t0 = performance.now();
  const child = spawn(ffmpegPath, ['-nostdin', '-hide_banner', '-loglevel', 'error', '-f', 'mpegts', '-i', 'pipe:0', '-map', '0:v:0', '-t', seconds.toFixed(3), '-f', 'null', '-'], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin!.on('error', () => {});
  const done = new Promise<void>((resolve, reject) =>
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`decoding the span failed (${code}): ${stderr}`)))),
  );
  for (const s of segments) {
    if (child.stdin!.destroyed) break;
    if (!child.stdin!.write(readFileSync(path.join(recordings, s.path)))) {
      await new Promise<void>((r) => {
        const done = () => {
          child.stdin!.off('drain', done).off('close', done);
          r();
        };
        child.stdin!.on('drain', done).on('close', done);
      });
    }
  }
  child.stdin!.end();
  await done;
  return { wall: (performance.now() - t0) / 1000, cpu: reapedChildrenCpu() - c0 };
}

async function diskAndClips(ffmpeg: FfmpegBinary, recordSeconds: number): Promise<string> {
  const rs = await rates();
  const rec = tempStore('disk');
  const clipsRoot = path.join(rec.dir, 'clips');
  const server = await startRtspServer(rs.map((r, i) => ({ name: `rate${i + 1}`, file: r.clip, fps: FPS })));
  const recorded: Recorded[] = [];
  const clipRows: string[] = [];
  try {
    const cams = rs.map((_, i) => startCamera(ffmpeg, `rate${i + 1}`, server.url(`rate${i + 1}`), rec));
    try {
      await waitFrames(cams);
      await sleep(recordSeconds * 1000);
    } finally {
      await stopCameras(cams);
    }
    const paged = indexBytes(rec.store.file);
    const totalRows = rec.store.segments.paths().size;
    for (const [i, rate] of rs.entries()) {
      const camera = `rate${i + 1}`;
      const segments = rec.store.segments.window(camera, 0, Number.MAX_SAFE_INTEGER);
      const seconds = segments.reduce((s, x) => s + (x.end - x.start), 0) / 1000;
      const bytes = segments.reduce((s, x) => s + x.bytes, 0);
      recorded.push({
        rate, camera, segments, seconds, bytes,
        rowPayload: paged && totalRows ? paged.payload / totalRows : undefined,
        rowPages: paged && totalRows ? paged.pages / totalRows : undefined,
      });
      console.error(`record disk ${rate.label}: ${segments.length} segments, ${(bytes / 1e6).toFixed(2)} MB over ${seconds.toFixed(1)} s`);
    }

    // 3. clips
    const assembler = new ClipAssembler(ffmpeg.path, rec.store.segments, rec.recordings);
    for (const r of recorded) {
      if (r.segments.length === 0) throw new Error(`${r.rate.label}: nothing was recorded`);
      const first = r.segments[0]!;
      const last = r.segments[r.segments.length - 1]!;
      for (const length of CLIP_LENGTHS_S) {
        // From a second into the recording (so the clip starts at the keyframe of the segment holding it).
        const from = first.start + 1000;
        const to = from + length * 1000;
        if (to > last.end) {
          clipRows.push(`| ${r.rate.label} | ${length} s | only ${((last.end - from) / 1000).toFixed(0)} s recorded: raise --record-seconds | | | | | | |`);
          continue;
        }
        const span = assembler.segmentsFor(r.camera, from, to);
        const copy: { wall: number; ffmpegCpu: number; nodeCpu: number; bytes: number; seconds: number }[] = [];
        const decode: { wall: number; cpu: number }[] = [];
        for (let k = 0; k < CLIP_RUNS; k++) {
          const c0 = reapedChildrenCpu();
          const n0 = nodeCpu();
          const t0 = performance.now();
          const clip = await assembler.assemble({ camera: r.camera, from, to, name: `${r.camera}-${length}-${k}` }, clipsRoot);
          copy.push({ wall: (performance.now() - t0) / 1000, ffmpegCpu: reapedChildrenCpu() - c0, nodeCpu: nodeCpu() - n0, bytes: clip.bytes, seconds: (clip.end - clip.start) / 1000 });
          decode.push(await decodeSpan(ffmpeg.path, rec.recordings, span, (clip.end - clip.start) / 1000));
        }
        const wall = median(copy.map((c) => c.wall));
        const cpu = median(copy.map((c) => c.ffmpegCpu + c.nodeCpu));
        const dWall = median(decode.map((d) => d.wall));
        const dCpu = median(decode.map((d) => d.cpu));
        clipRows.push(
          `| ${r.rate.label} | ${length} s (${median(copy.map((c) => c.seconds)).toFixed(1)} s from ${span.length} segments, ${(median(copy.map((c) => c.bytes)) / 1e6).toFixed(2)} MB) | ` +
            `${(wall * 1000).toFixed(0)} | ${(cpu * 1000).toFixed(0)} (ffmpeg ${(median(copy.map((c) => c.ffmpegCpu)) * 1000).toFixed(0)}, node ${(median(copy.map((c) => c.nodeCpu)) * 1000).toFixed(0)}) | ` +
            `${(dWall * 1000).toFixed(0)} | ${(dCpu * 1000).toFixed(0)} | ${(dWall / wall).toFixed(1)}× | ${(dCpu / cpu).toFixed(1)}× |`,
        );
        console.error(`record clip ${r.rate.label} ${length} s: copy ${(wall * 1000).toFixed(0)} ms / ${(cpu * 1000).toFixed(0)} CPU-ms, decode ${(dWall * 1000).toFixed(0)} ms / ${(dCpu * 1000).toFixed(0)} CPU-ms`);
      }
    }
  } finally {
    await server.stop();
    rec.store.close();
    rmSync(rec.dir, { recursive: true, force: true });
  }

  const hour = (x: number, r: Recorded) => (x / r.seconds) * 3600;
  const diskRows = recorded.map((r) => {
    const perHour = hour(r.bytes, r);
    const rowsPerHour = hour(r.segments.length, r);
    const rowBytes = r.rowPayload !== undefined ? `${r.rowPayload.toFixed(0)} B payload, ${r.rowPages!.toFixed(0)} B of pages → ${((rowsPerHour * r.rowPages!) / 1e6).toFixed(2)} MB` : 'dbstat unavailable';
    return `| ${r.rate.label} (${(r.rate.clipBitsPerSecond / 1e3).toFixed(0)} kbit/s) | ${r.segments.length} in ${r.seconds.toFixed(1)} s | ${((r.bytes * 8) / r.seconds / 1e3).toFixed(0)} | ` +
      `${(perHour / 1e9).toFixed(2)} | ${Math.round(rowsPerHour)} | ${rowBytes} | ${((perHour * RECORDING.ring_minutes) / 60 / 1e6).toFixed(0)} |`;
  });
  return [
    `Recording disk: one camera per rate (testsrc2 H.264 ${FPS} fps, GOP 2 s, no B-frames, looped by the RTSP test server), each ffmpeg with cameraArgs() + SegmentRecorder.outputArgs() recording together for ${recordSeconds} s (--record-seconds, at least 75 s so a 60 s clip fits), ` +
      `segment_s ${RECORDING.segment_s}; per camera-hour extrapolated from the indexed segments (bytes and stream seconds as the index holds them). ` +
      `Index row bytes from SQLite's dbstat (the segments table and its indexes, averaged over the ${recorded.reduce((s, r) => s + r.segments.length, 0)} rows; pages include their free space, so a few rows overstate it).`,
    '',
    `| stream (source bit rate) | segments recorded | recorded kbit/s | GB per camera-hour | segments (index rows) per camera-hour | index per row → per camera-hour | ring of ${RECORDING.ring_minutes} min, MB per camera |`,
    '|:---|---:|---:|---:|---:|---:|---:|',
    ...diskRows,
    '',
    `Clip assembly: ClipAssembler.assemble() (segments read and SHA-256 checked, copied by ffmpeg into a faststart MP4, fsynced, hashed, renamed) against decoding the same segments for the same span (ffmpeg, default threads, -f null); median of ${CLIP_RUNS}. ` +
      'CPU of ffmpeg from this process\'s reaped children; node\'s from process.cpuUsage().',
    '',
    '| stream | clip | assemble wall ms | assemble CPU ms | decode wall ms | decode CPU ms | decode / assemble, wall | decode / assemble, CPU |',
    '|:---|:---|---:|---:|---:|---:|---:|---:|',
    ...clipRows,
  ].join('\n');
}

export async function recordBenchmark(options: { cameras: number; seconds: number }): Promise<string> {
  const header =
    `Recording benchmark: ${os.cpus().length} cores (${cpuModel()}), Node ${process.version}; load average at start ${load()} (1 / 5 / 15 min). ` +
    'Numbers compare within this run; on a machine that is not quiet (a load average near the core count before it starts) the absolute CPU and times are inflated, and the off/on ratio less steady.';
  console.error(header);
  const ffmpeg = await probeFfmpeg(null);
  const cpu = await cpuTable(ffmpeg, options.cameras, options.seconds);
  const disk = await diskAndClips(ffmpeg, Math.max(options.seconds, Math.max(...CLIP_LENGTHS_S) + 15));
  return [header, '', cpu, '', disk, '', `Load average at the end ${load()}; ffmpeg ${ffmpeg.version}.`].join('\n');
}
