// Ingest cost: CPU-seconds per second of video for vigil (the daemon plus its ffmpeg children) against
// bare ffmpeg doing the same decode (same arguments, output thrown away), for N cameras at 720p25
// scaled to 640x360 at 5 fps, measured in the same run so the ratio is fair.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CameraSchema } from '../src/config/schema.js';
import { cameraArgs, probeFfmpeg } from '../src/ingest/ffmpeg.js';
import { readProcessCpuSeconds } from '../src/metrics/process-cpu.js';
import { startDaemonProcess } from '../test/harness/daemon-process.js';
import { testsrcClip } from '../test/harness/media.js';
import { startRtspServer, type RtspServerProcess } from '../test/harness/rtsp-process.js';
import { sleep, waitFor } from '../test/harness/wait.js';

const DETECT = { width: 640, height: 360, fps: 5 };

function childPids(pid: number): number[] {
  const pids: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (text) pids.push(...text.split(' ').map(Number));
    }
  } catch {
    // the process is gone
  }
  return pids;
}

function treeCpu(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + (readProcessCpuSeconds(pid) ?? 0), 0);
}

async function measure(pids: () => number[], seconds: number): Promise<number> {
  const before = pids();
  const start = treeCpu(before);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const elapsed = (performance.now() - t0) / 1000;
  // Same processes at both ends: a restart in between would make the difference meaningless.
  const after = pids();
  if (after.join() !== before.join()) throw new Error(`processes changed during the measurement: ${before} → ${after}`);
  return (treeCpu(after) - start) / elapsed;
}

async function vigilCost(server: RtspServerProcess, n: number, seconds: number, dir: string): Promise<number> {
  const cameras = Array.from({ length: n }, (_, i) =>
    `  - { name: cam${i + 1}, url: "${server.url(`cam${i + 1}`)}", location: bench, detect: { width: ${DETECT.width}, height: ${DETECT.height}, fps: ${DETECT.fps} } }`,
  ).join('\n');
  const file = path.join(dir, `bench-${n}.yaml`);
  writeFileSync(file, `data_dir: ./data\ncameras:\n${cameras}\napi: { port: 0 }\n`);
  const daemon = await startDaemonProcess(['--config', file]);
  try {
    await waitFor('all cameras up', async () => {
      const h = (await fetch(`${daemon.address}/healthz`).then((r) => r.json())) as { cameras_up: number };
      return h.cameras_up === n;
    }, 30_000);
    await sleep(3000); // past the connect burst
    const pid = daemon.child.pid!;
    return await measure(() => [pid, ...childPids(pid)], seconds);
  } finally {
    await daemon.stop();
  }
}

async function bareFfmpegCost(server: RtspServerProcess, n: number, seconds: number): Promise<number> {
  const ffmpeg = await probeFfmpeg(null);
  const children = Array.from({ length: n }, (_, i) => {
    const args = cameraArgs(
      CameraSchema.parse({ name: `cam${i + 1}`, url: server.url(`cam${i + 1}`), location: 'bench', detect: DETECT }),
      ffmpeg,
      { socketTimeoutS: 10, decodeThreads: 1 }, // what the daemon uses by default
    );
    return spawn(ffmpeg.path, args, { stdio: ['ignore', 'ignore', 'ignore'] });
  });
  try {
    await sleep(5000); // connect and past the connect burst
    return await measure(() => children.map((c) => c.pid!), seconds);
  } finally {
    for (const c of children) c.kill('SIGKILL');
  }
}

export async function ingestBenchmark(counts: number[], seconds: number): Promise<string> {
  const clip = await testsrcClip(1280, 720, 25, 10, '2M');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-'));
  const rows: string[] = [];
  for (const n of counts) {
    const server = await startRtspServer(Array.from({ length: n }, (_, i) => ({ name: `cam${i + 1}`, file: clip, fps: 25 })));
    try {
      const bare = await bareFfmpegCost(server, n, seconds);
      const vigil = await vigilCost(server, n, seconds, dir);
      rows.push(`| ${n} | ${(vigil / n).toFixed(3)} | ${(bare / n).toFixed(3)} | ${(vigil / bare).toFixed(2)} | ${vigil.toFixed(2)} |`);
      console.error(`ingest N=${n}: vigil ${vigil.toFixed(3)} CPU-s/s, bare ffmpeg ${bare.toFixed(3)} CPU-s/s`);
    } finally {
      await server.stop();
    }
  }
  return [
    `Ingest: 720p25 H.264 (2 Mbit/s) over RTSP/TCP from the test server, detect ${DETECT.width}x${DETECT.height} @ ${DETECT.fps} fps, ${seconds} s per measurement, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'})`,
    '',
    '| cameras | vigil CPU-s per s of video, per camera | bare ffmpeg, per camera | ratio vigil / bare | vigil total cores busy |',
    '|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}
