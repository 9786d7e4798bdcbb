// The whole pipeline under load: N busy cameras of real street footage (720p25, detect 640x360 @ 5 fps)
// from the loopback RTSP server into the daemon, with today's detector defaults, the lighter 320 model and
// the previous default (nanodet-416-int8) in the same run. Reports how
// often each camera is detected, frames skipped, p95 capture-to-commit latency, and vigil's CPU (daemon +
// ffmpeg children) against bare ffmpeg decoding plus bare inference for the same work.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { CameraSchema, DETECTOR_DEFAULTS, type DetectorConfig } from '../src/config/schema.js';
import { resolveModel } from '../src/detect/model.js';
import { cameraArgs, probeFfmpeg } from '../src/ingest/ffmpeg.js';
import { writeDaemonConfig } from '../test/harness/daemon-config.js';
import { startDaemonProcess } from '../test/harness/daemon-process.js';
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

/**
 * The bucket bound under which `q` of a histogram's observations between two scrapes lie (1: the slowest
 * one), from its cumulative buckets; `labels` pick one series of a labelled histogram.
 */
function bucketQuantile(before: string, after: string, name: string, q: number, labels: Record<string, string> = {}): number | undefined {
  const buckets = (text: string) =>
    text.split('\n').filter((l) => l.startsWith(`${name}_bucket{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)))
      .map((l) => ({ le: /le="([^"]+)"/.exec(l)![1]!, n: Number(l.split(' ').pop()) }));
  const a = buckets(before);
  const b = buckets(after);
  const total = (b.at(-1)?.n ?? 0) - (a.at(-1)?.n ?? 0);
  if (total <= 0) return undefined;
  for (const bucket of b) {
    const prior = a.find((x) => x.le === bucket.le)?.n ?? 0;
    if (bucket.n - prior >= q * total) return bucket.le === '+Inf' ? Infinity : Number(bucket.le);
  }
  return undefined;
}

/**
 * The same work without vigil, under the same contention: N bare ffmpeg decoders and, at the same time in
 * this process, bare session.run calls at the rate vigil achieved. CPU of both, in cores.
 */
async function bareCpu(server: RtspServerProcess, n: number, seconds: number, inferencesPerSecond: number, modelId: string): Promise<number> {
  const ffmpeg = await probeFfmpeg(null);
  const model = resolveModel(modelId);
  const session = await ort.InferenceSession.create(model.path, { graphOptimizationLevel: 'all', intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
  const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', new Float32Array(3 * model.input.width * model.input.height).fill(0.1), [1, 3, model.input.height, model.input.width]) };
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

interface Variant {
  name: string;
  detector: Partial<DetectorConfig>;
  /** Also measure bare decoding + inference for the same work (once per camera count is enough). */
  bare: boolean;
}

const VARIANTS: Variant[] = [
  { name: 'defaults', detector: {}, bare: true },
  { name: 'nanodet-320-int8', detector: { model: 'nanodet-320-int8' }, bare: false },
  { name: 'nanodet-416-int8 (the default before 640x384)', detector: { model: 'nanodet-416-int8' }, bare: false },
];

/** With --pipeline-sizing: the rows the auto sizing rule (src/detect/sizing.ts) was chosen from. */
const SIZING_VARIANTS: Variant[] = [
  { name: '1 worker × 2 threads', detector: { workers: 1, threads: 2 }, bare: false },
  { name: '2 workers × 1 thread', detector: { workers: 2, threads: 1 }, bare: false },
];

export async function pipelineBenchmark(counts: number[], seconds: number, sizing = false): Promise<string> {
  const variants = sizing ? [...VARIANTS, ...SIZING_VARIANTS] : VARIANTS;
  const clip = await street720p25(sharedFixture('video/opencv-vtest-pedestrians-720p10.mp4'));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-pipeline-'));
  const rows: string[] = [];
  for (const n of counts) {
    const server = await startRtspServer(Array.from({ length: n }, (_, i) => ({ name: `cam${i + 1}`, file: clip, fps: 25 })));
    try {
      for (const variant of variants) rows.push(await measure(server, dir, n, seconds, variant));
    } finally {
      await server.stop();
    }
  }
  const defaults = DETECTOR_DEFAULTS;
  return [
    `Pipeline: N busy cameras of street footage (pedestrian fixture as 720p25, 2 Mbit/s) over RTSP, detect 640x360 @ 5 fps, ${seconds} s per row, ${os.cpus().length} cores. ` +
      `defaults = ${typeof defaults.model === 'string' ? defaults.model : 'custom'}, workers ${defaults.workers}, threads ${defaults.threads}, pack_regions ${defaults.pack_regions}. ` +
      'Bare = N bare ffmpeg decoders plus bare session.run at vigil\'s inference rate, run together',
    '',
    '| cameras | detector | detections per camera per s (least-served camera) | slowest gap between a camera\'s detections (s, ≤) | frames skipped by detector | inferences/s | p95 capture→commit (s, ≤) | vigil CPU per camera (cores) | bare decode + inference (cores) | ratio |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}

async function measure(server: RtspServerProcess, dir: string, n: number, seconds: number, variant: Variant): Promise<string> {
  const names = Array.from({ length: n }, (_, i) => `cam${i + 1}`);
  const file = writeDaemonConfig(dir, {
    fileName: `pipeline-${n}-${variant.name.replace(/\W+/g, '-')}.yaml`,
    dataDir: `./data-${n}-${variant.name.replace(/\W+/g, '-')}`,
    busPort: null,
    cameras: names.map((name, i) => ({ name, url: server.url(name), location: `street ${i + 1}` })),
    extra: { detector: variant.detector },
  });
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
    const detectorSkips = delta('vigil_frames_dropped_total', { reason: 'detector_busy' });
    const inferences = delta('vigil_inference_seconds_count');
    const perCamera = names.map((camera) => delta('vigil_detections_total', { camera }) / seconds);
    const slowestGap = Math.max(...names.map((camera) => bucketQuantile(before, after, 'vigil_detection_interval_seconds', 1, { camera }) ?? Infinity));
    const latency = bucketQuantile(before, after, 'vigil_pipeline_latency_seconds', 0.95);
    const chosen = variant.detector.model ?? DETECTOR_DEFAULTS.model;
    const model = typeof chosen === 'string' ? chosen : 'nanodet-416';
    // Stopped before the bare run so the two never share the machine (the finally covers failures).
    await daemon.stop();
    const bare = variant.bare ? await bareCpu(server, n, seconds, inferences / seconds, model) : undefined;
    const mean = perCamera.reduce((a, b) => a + b, 0) / n;
    console.error(`pipeline N=${n} ${variant.name}: ${mean.toFixed(2)} detections/camera/s, vigil ${vigil.toFixed(2)} cores, ${inferences} inferences, ${detectorSkips} skipped`);
    return `| ${n} | ${variant.name} | ${mean.toFixed(2)} (${Math.min(...perCamera).toFixed(2)}) | ${slowestGap} | ${((100 * detectorSkips) / Math.max(frames, 1)).toFixed(0)}% | ` +
      `${(inferences / seconds).toFixed(1)} | ${latency === undefined ? 'n/a' : latency} | ${(vigil / n).toFixed(3)} | ${bare === undefined ? '' : (bare / n).toFixed(3)} | ${bare === undefined ? '' : (vigil / bare).toFixed(2)} |`;
  } finally {
    await daemon.stop();
  }
}
