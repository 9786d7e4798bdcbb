// The whole pipeline under load: N cameras of real street footage (720p25, detect 640x360 @ 5 fps) from
// the loopback RTSP server into the daemon. Reports drops, detector utilisation, p95 capture-to-commit
// latency, and vigil's CPU (daemon + ffmpeg children) against bare ffmpeg decoding plus bare inference for
// the same work, measured in the same run.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { CameraSchema } from '../src/config/schema.js';
import { resolveModel } from '../src/detect/model.js';
import { cameraArgs, probeFfmpeg } from '../src/ingest/ffmpeg.js';
import { sample, startDaemonProcess } from '../test/harness/daemon-process.js';
import { street720p25 } from '../test/harness/media.js';
import { sharedFixture } from '../test/harness/media-paths.js';
import { startRtspServer, type RtspServerProcess } from '../test/harness/rtsp-process.js';
import { sleep, waitFor } from '../test/harness/wait.js';
import { childPids, measureCpu } from './cpu.js';

const DETECT = { width: 640, height: 360, fps: 5 };

function sum(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    const l = /\{(.*)\}/.exec(line)?.[1] ?? '';
    if (Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`))) total += Number(line.split(' ').pop());
  }
  return total;
}

/** The p95 of a histogram's observations between two scrapes, from its cumulative buckets. */
function p95(before: string, after: string, name: string): number | undefined {
  const buckets = (text: string) =>
    text.split('\n').filter((l) => l.startsWith(`${name}_bucket{`)).map((l) => ({ le: /le="([^"]+)"/.exec(l)![1]!, n: Number(l.split(' ').pop()) }));
  const a = buckets(before);
  const b = buckets(after);
  const total = (sample(after, `${name}_count`) ?? 0) - (sample(before, `${name}_count`) ?? 0);
  if (total <= 0) return undefined;
  for (const bucket of b) {
    const prior = a.find((x) => x.le === bucket.le)?.n ?? 0;
    if (bucket.n - prior >= 0.95 * total) return bucket.le === '+Inf' ? Infinity : Number(bucket.le);
  }
  return undefined;
}

/**
 * The same work without vigil, under the same contention: N bare ffmpeg decoders and, at the same time in
 * this process, bare session.run calls at the rate vigil achieved. CPU of both, in cores.
 */
async function bareCpu(server: RtspServerProcess, n: number, seconds: number, inferencesPerSecond: number): Promise<number> {
  const ffmpeg = await probeFfmpeg(null);
  const model = resolveModel('nanodet-416');
  const session = await ort.InferenceSession.create(model.path, { graphOptimizationLevel: 'all', intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
  const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', new Float32Array(3 * 416 * 416).fill(0.1), [1, 3, 416, 416]) };
  await session.run(feeds);
  const children = Array.from({ length: n }, (_, i) =>
    spawn(ffmpeg.path, cameraArgs(CameraSchema.parse({ name: `c${i}`, url: server.url(`cam${i + 1}`), location: 'b', detect: DETECT }), ffmpeg, { socketTimeoutS: 10, decodeThreads: 1 }), {
      stdio: ['ignore', 'ignore', 'ignore'],
    }),
  );
  try {
    await sleep(5000);
    const started = performance.now();
    let done = 0;
    // Paced: inference k starts no earlier than k / rate seconds into the window.
    const infer = async () => {
      while (performance.now() - started < seconds * 1000) {
        const due = started + (done * 1000) / inferencesPerSecond;
        if (performance.now() < due) await sleep(due - performance.now());
        await session.run(feeds);
        done++;
      }
    };
    const cpu0 = process.cpuUsage();
    const decode = await measureCpu(() => children.map((c) => c.pid!), seconds, infer);
    const own = process.cpuUsage(cpu0);
    return decode + (own.user + own.system) / 1e6 / seconds;
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await session.release();
  }
}

export async function pipelineBenchmark(counts: number[], seconds: number): Promise<string> {
  const clip = await street720p25(sharedFixture('video/opencv-vtest-pedestrians-720p10.mp4'));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-pipeline-'));
  const rows: string[] = [];
  for (const n of counts) {
    const server = await startRtspServer(Array.from({ length: n }, (_, i) => ({ name: `cam${i + 1}`, file: clip, fps: 25 })));
    try {
      const cameras = Array.from({ length: n }, (_, i) =>
        `  - { name: cam${i + 1}, url: "${server.url(`cam${i + 1}`)}", location: street ${i + 1}, detect: { width: 640, height: 360, fps: 5 } }`).join('\n');
      const file = path.join(dir, `pipeline-${n}.yaml`);
      writeFileSync(file, `data_dir: ./data-${n}\ncameras:\n${cameras}\napi: { port: 0 }\nbus: { publish: null }\n`);
      const daemon = await startDaemonProcess(['--config', file]);
      try {
        await waitFor('all cameras up', async () => ((await fetch(`${daemon.address}/healthz`).then((r) => r.json())) as { cameras_up: number }).cameras_up === n, 60_000);
        await sleep(5000);
        const before = await fetch(`${daemon.address}/metrics`).then((r) => r.text());
        const pid = daemon.child.pid!;
        const vigil = await measureCpu(() => [pid, ...childPids(pid)], seconds);
        const after = await fetch(`${daemon.address}/metrics`).then((r) => r.text());
        const delta = (name: string, labels: Record<string, string> = {}) => sum(after, name, labels) - sum(before, name, labels);
        const frames = delta('vigil_frames_total');
        const ingestDrops = delta('vigil_frames_dropped_total', { reason: 'busy' }) + delta('vigil_frames_dropped_total', { reason: 'truncated' });
        const detectorSkips = delta('vigil_frames_dropped_total', { reason: 'detector_busy' });
        const inferences = delta('vigil_inference_seconds_count');
        const utilisation = delta('vigil_inference_seconds_sum') / seconds;
        const latency = p95(before, after, 'vigil_pipeline_latency_seconds');
        // Stopped before the bare run so the two never share the machine (the finally covers failures).
        await daemon.stop();
        const bare = await bareCpu(server, n, seconds, inferences / seconds);
        rows.push(
          `| ${n} | ${(frames / seconds).toFixed(1)} | ${((100 * ingestDrops) / Math.max(frames, 1)).toFixed(2)}% | ${((100 * detectorSkips) / Math.max(frames, 1)).toFixed(1)}% | ` +
            `${(100 * utilisation).toFixed(0)}% | ${(inferences / seconds).toFixed(1)} | ${latency === undefined ? 'n/a' : `≤ ${latency}`} | ${vigil.toFixed(2)} | ${bare.toFixed(2)} | ${(vigil / bare).toFixed(2)} |`,
        );
        console.error(`pipeline N=${n}: vigil ${vigil.toFixed(2)} cores, bare ${bare.toFixed(2)}; ${inferences} inferences, ${detectorSkips} skipped`);
      } finally {
        await daemon.stop();
      }
    } finally {
      await server.stop();
    }
  }
  return [
    `Pipeline: N cameras of street footage (pedestrian fixture as 720p25, 2 Mbit/s) over RTSP, detect 640x360 @ 5 fps, nanodet-416, 1 worker × 1 thread, ${seconds} s per row, ${os.cpus().length} cores. Bare = N bare ffmpeg decoders plus bare session.run at vigil's inference rate, run together`,
    '',
    '| cameras | frames/s | dropped in ingest | skipped by detector (newer frame) | detector utilisation | inferences/s | p95 capture→commit (s) | vigil CPU (cores) | bare decode + inference (cores) | ratio |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}
