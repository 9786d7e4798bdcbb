// Ingest cost: CPU-seconds per second of video for vigil's ingest stage (supervisors, frame reading and
// their ffmpeg children, in this process) against bare ffmpeg doing the same decode (same arguments,
// output thrown away), for N cameras at 720p25 scaled to 640x360 at 5 fps, measured in the same run.
import { spawn } from 'node:child_process';
import os from 'node:os';
import { CameraSchema, IngestSchema } from '../src/config/schema.js';
import { CameraSupervisor } from '../src/ingest/camera-supervisor.js';
import { createLogger } from '../src/log/logger.js';
import { cameraArgs, probeFfmpeg } from '../src/ingest/ffmpeg.js';
import { measureCpu } from './cpu.js';
import { testsrcClip } from '../test/harness/media.js';
import { startRtspServer, type RtspServerProcess } from '../test/harness/rtsp-process.js';
import { sleep, waitFor } from '../test/harness/wait.js';

const DETECT = { width: 640, height: 360, fps: 5 };

/** The ingest stage alone (supervisors, ffmpeg children, frame reading), in this process. */
async function vigilCost(server: RtspServerProcess, n: number, seconds: number): Promise<number> {
  const ffmpeg = await probeFfmpeg(null);
  const ingest = IngestSchema.parse({});
  const logger = createLogger('warn');
  const supervisors = Array.from({ length: n }, (_, i) => {
    const camera = CameraSchema.parse({ name: `cam${i + 1}`, url: server.url(`cam${i + 1}`), location: 'bench', detect: DETECT });
    const s = new CameraSupervisor(camera, { ffmpeg, ingest, decodeThreads: 1, logger });
    s.setConsumer(() => {});
    s.start();
    return s;
  });
  try {
    await waitFor('all cameras up', () => supervisors.every((s) => s.state === 'up'), 30_000);
    await sleep(3000); // past the connect burst
    return await measureCpu(() => [process.pid, ...supervisors.map((s) => s.pid!)], seconds);
  } finally {
    await Promise.all(supervisors.map((s) => s.stop()));
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
    return await measureCpu(() => children.map((c) => c.pid!), seconds);
  } finally {
    for (const c of children) c.kill('SIGKILL');
  }
}

export async function ingestBenchmark(counts: number[], seconds: number): Promise<string> {
  const clip = await testsrcClip(1280, 720, 25, 10, '2M');
  const rows: string[] = [];
  for (const n of counts) {
    const server = await startRtspServer(Array.from({ length: n }, (_, i) => ({ name: `cam${i + 1}`, file: clip, fps: 25 })));
    try {
      const bare = await bareFfmpegCost(server, n, seconds);
      const vigil = await vigilCost(server, n, seconds);
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
