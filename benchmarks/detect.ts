// Detection cost per model and thread count: median and p90 of preprocess, inference and decode inside
// the worker, and vigil's whole detect() call against a bare session.run on the same input, in one run.
import { execFileSync } from 'node:child_process';
import * as ort from 'onnxruntime-node';
import { DETECTOR_DEFAULTS } from '../src/config/schema.js';
import { Detector } from '../src/detect/detector.js';
import { resolveModel } from '../src/detect/model.js';
import { preprocess } from '../src/detect/preprocess.js';
import { type YuvImage } from '../src/image/image.js';
import { bundledFfmpegPath } from '../src/ingest/ffmpeg.js';
import { debianMedia } from '../test/harness/media-paths.js';

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};
const fmt = (v: number) => v.toFixed(1);

/** Longest stall of the event loop while `work` runs (a 1 ms timer that notes its own lateness). */
async function maxLoopGap(work: () => Promise<void>): Promise<number> {
  let last = performance.now();
  let max = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    max = Math.max(max, now - last);
    last = now;
  }, 1);
  await work();
  // Let the timer fire once more: a blocked loop only shows its gap when it is free again.
  await new Promise((r) => setTimeout(r, 5));
  clearInterval(timer);
  return max;
}

export async function detectBenchmark(runs: number): Promise<string> {
  // A 640x360 yuv420p frame, the ingest's default detect size, from Debian's messi5.jpg.
  const frame: YuvImage = {
    kind: 'yuv420p',
    width: 640,
    height: 360,
    data: execFileSync(bundledFfmpegPath(), ['-hide_banner', '-loglevel', 'error', '-i', debianMedia('messi5.jpg'),
      '-vf', 'scale=640:360', '-pix_fmt', 'yuv420p', '-f', 'rawvideo', 'pipe:1']),
  };
  const rows: string[] = [];
  const bareMs = new Map<string, number>();
  for (const modelId of ['nanodet-640x384', 'nanodet-640x384-int8', 'nanodet-416', 'nanodet-416-int8', 'nanodet-320', 'nanodet-320-int8', 'centernet-512'] as const) {
    for (const threads of [1, 2]) {
      const model = resolveModel(modelId);
      const detector = await Detector.create({ ...DETECTOR_DEFAULTS, model: modelId, threads });
      const session = await ort.InferenceSession.create(model.path, { graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential' });
      const input = new Float32Array(3 * model.input.width * model.input.height);
      preprocess(frame, model, input);
      const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', input, [1, 3, model.input.height, model.input.width]) };
      for (let i = 0; i < 3; i++) {
        await detector.detect(frame);
        await session.run(feeds);
      }
      const pre: number[] = [], inf: number[] = [], dec: number[] = [], whole: number[] = [], bare: number[] = [];
      // Interleaved, so both see the same machine state, with a pause after each: onnxruntime's intra-op
      // threads spin for a while after a run, and at 2 threads on 2 cores the other session's spinning
      // slowed the next run (nanodet-416 at 2 threads: 58 ms back to back, 46 ms with the pause; 28-34 ms
      // for one session alone, whose weights need not share the cache with another's).
      const settle = () => new Promise((r) => setTimeout(r, 20));
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        const { timings } = await detector.detect(frame);
        whole.push(performance.now() - t0);
        pre.push(timings.preprocessMs);
        inf.push(timings.inferenceMs);
        dec.push(timings.decodeMs);
        await settle();
        const t1 = performance.now();
        await session.run(feeds);
        bare.push(performance.now() - t1);
        await settle();
      }
      const detectGap = await maxLoopGap(async () => {
        for (let i = 0; i < 5; i++) await detector.detect(frame);
      });
      const bareGap = await maxLoopGap(async () => {
        for (let i = 0; i < 5; i++) await session.run(feeds);
      });
      await detector.close();
      await session.release();
      rows.push(
        `| ${modelId} | ${threads} | ${fmt(quantile(pre, 0.5))} / ${fmt(quantile(pre, 0.9))} | ${fmt(quantile(inf, 0.5))} / ${fmt(quantile(inf, 0.9))} | ` +
          `${fmt(quantile(dec, 0.5))} / ${fmt(quantile(dec, 0.9))} | ${fmt(quantile(whole, 0.5))} | ${fmt(quantile(bare, 0.5))} | ` +
          `${(quantile(whole, 0.5) / quantile(bare, 0.5)).toFixed(2)} | ${fmt(detectGap)} / ${fmt(bareGap)} |`,
      );
      bareMs.set(`${modelId}/${threads}`, quantile(bare, 0.5));
      console.error(`detect ${modelId} threads=${threads}: whole ${fmt(quantile(whole, 0.5))} ms, bare run ${fmt(quantile(bare, 0.5))} ms`);
    }
  }
  return [
    `Detection: one 640x360 yuv420p frame (messi5.jpg), ${runs} runs per row, median / p90 in ms`,
    '',
    '| model | threads | preprocess | inference | decode + NMS | vigil detect() | bare session.run | ratio | event-loop max gap: detect() / bare run |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    'int8 against fp32, and the 640x384 default against the 416 square model, bare session.run medians in ms:',
    '',
    '| threads | nanodet-416 | nanodet-416-int8 | int8 / fp32 | nanodet-640x384 | nanodet-640x384-int8 | int8 / fp32 | 640x384-int8 / 416-int8 |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...[1, 2].map((t) => {
      const [fp32, int8] = [bareMs.get(`nanodet-416/${t}`)!, bareMs.get(`nanodet-416-int8/${t}`)!];
      const [wide, wideInt8] = [bareMs.get(`nanodet-640x384/${t}`)!, bareMs.get(`nanodet-640x384-int8/${t}`)!];
      return `| ${t} | ${fmt(fp32)} | ${fmt(int8)} | ${(int8 / fp32).toFixed(2)} | ${fmt(wide)} | ${fmt(wideInt8)} | ${(wideInt8 / wide).toFixed(2)} | ${(wideInt8 / int8).toFixed(2)} |`;
    }),
  ].join('\n');
}
