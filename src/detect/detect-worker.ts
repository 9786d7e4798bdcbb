// One inference worker: owns an onnxruntime session and does preprocess → run → decode → NMS off the main
// thread (onnxruntime-node's run() blocks the event loop for the whole inference: measured 80 ms gaps).
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { ResolvedModel } from './model.js';
import { nms, type Detection } from './nms.js';
import { joinRiders, RIDER_DEFAULTS, type JoinedDetection } from './riders.js';
import { decodeOutputs, finishDetections, finishTiledDetections, type DecodeOptions, type RawOutput } from './postprocess.js';
import { fillNeutral, preprocess, tileLayout } from './preprocess.js';
import { type Image } from '../image/image.js';
import { type Rect } from '../image/geometry.js';
import { workerInit } from '../workers/worker-heap.js';
import type { DetectRequest, DetectResponse, Timings, WorkerInit } from './worker-protocol.js';

const init = workerInit<WorkerInit>();
const model: ResolvedModel = init.model;
const allowedIds = new Set(init.decode.allowedIds);
const riders = init.riders;
const twoWheelers = new Set(riders?.twoWheelers ?? []);
// Joining riders, people and vehicles never suppress each other: a rider's box and their bike's overlap
// heavily (with class-agnostic NMS the 640x384 model found 71% of ridden motorbikes on street CCTV, 78% without).
const decode: DecodeOptions = { ...init.decode, allowed: (id) => allowedIds.has(id), ...(riders ? { groupOf: (id: number) => (id === riders.person ? 1 : 0) } : {}) };
const classThresholds = new Map(Object.entries(init.classThresholds).map(([id, t]) => [Number(id), t]));
// Decoding keeps everything above the lowest threshold in use (a weak bike under a rider included); each
// class's own is applied after.
const lowestThreshold = Math.min(init.decode.scoreThreshold, ...classThresholds.values(), ...(riders ? [riders.bikeThreshold, riders.riderThreshold] : []));
const input = new Float32Array(3 * model.input.width * model.input.height);

let session: ort.InferenceSession;
try {
  session = await ort.InferenceSession.create(model.path, {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: init.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  parentPort!.postMessage({ type: 'ready', inputs: session.inputNames, outputs: session.outputNames });
} catch (err) {
  parentPort!.postMessage({ type: 'failed', error: `cannot load ${model.path}: ${(err as Error).message}` });
  process.exit(1);
}

parentPort!.on('message', (request: DetectRequest) => {
  void handle(request).then(
    (response) => parentPort!.postMessage(response, transferable(response.buffer)),
    (err: unknown) =>
      parentPort!.postMessage({ id: request.id, error: (err as Error).message, buffer: request.buffer } satisfies DetectResponse, transferable(request.buffer)),
  );
});

async function handle(request: DetectRequest): Promise<DetectResponse> {
  const image = { ...request.image, data: new Uint8Array(request.buffer, request.byteOffset, request.byteLength) } as Image;
  const regions: Rect[] = request.regions.length ? request.regions : [{ x: 0, y: 0, width: image.width, height: image.height }];
  // A camera's own threshold overrides the detector's and the classes' alike.
  const threshold = (classId: number) => request.scoreThreshold ?? classThresholds.get(classId) ?? decode.scoreThreshold;
  const strong = (d: Detection) => d.score >= threshold(d.classId);
  // A box under its class's threshold must not suppress another's in NMS; the exceptions are the weak bikes
  // and people that riders.ts may join into a two-wheeler.
  const keep = (d: Detection) =>
    strong(d) || (riders !== undefined && (twoWheelers.has(d.classId) ? d.score >= riders.bikeThreshold : d.classId === riders.person && d.score >= riders.riderThreshold));
  const floor = Math.min(request.scoreThreshold ?? lowestThreshold, ...(riders ? [riders.bikeThreshold, riders.riderThreshold] : []));
  const options = { ...decode, scoreThreshold: floor };
  const timings: Timings = { preprocessMs: 0, inferenceMs: 0, decodeMs: 0, inferences: 0 };
  let detections: Detection[];
  // More than four regions do not fit the 2×2 tiles (the pipeline plans at most three): one by one.
  if (request.pack && regions.length > 1 && regions.length <= 4) {
    const t0 = performance.now();
    fillNeutral(model, input);
    const tiles = tileLayout(regions.length, model.input).map((tile, i) => ({ tile, region: regions[i]!, transform: preprocess(image, model, input, regions[i], tile) }));
    timings.preprocessMs += performance.now() - t0;
    const outputs = await infer(timings);
    const t1 = performance.now();
    detections = finishTiledDetections(decodeOutputs(model, outputs, options).filter(keep), tiles, options);
    timings.decodeMs += performance.now() - t1;
  } else {
    const found: Detection[] = [];
    for (const region of regions) {
      const t0 = performance.now();
      const transform = preprocess(image, model, input, region);
      timings.preprocessMs += performance.now() - t0;
      const outputs = await infer(timings);
      const t1 = performance.now();
      found.push(...finishDetections(decodeOutputs(model, outputs, options).filter(keep), transform, region, options));
      timings.decodeMs += performance.now() - t1;
    }
    // Overlapping regions can see the same object twice.
    detections = regions.length > 1 ? nms(found, options.iouThreshold, options.maxDetections, options.groupOf) : found;
  }
  const joined: JoinedDetection[] = riders
    ? joinRiders(detections.map((d) => ({ ...d, strong: strong(d) })), { person: riders.person, twoWheelers }, { ...RIDER_DEFAULTS, riderThreshold: riders.riderThreshold })
    : detections;
  return { id: request.id, detections: joined, timings, buffer: request.buffer };
}

async function infer(timings: Timings): Promise<Record<string, RawOutput>> {
  const t0 = performance.now();
  const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', input, [1, 3, model.input.height, model.input.width]) };
  const results = await session.run(feeds);
  timings.inferenceMs += performance.now() - t0;
  timings.inferences++;
  const outputs: Record<string, RawOutput> = {};
  for (const name of session.outputNames) outputs[name] = { data: results[name]!.data as Float32Array, dims: results[name]!.dims };
  return outputs;
}

function transferable(buffer: ArrayBuffer | SharedArrayBuffer): ArrayBuffer[] {
  return buffer instanceof ArrayBuffer ? [buffer] : [];
}
