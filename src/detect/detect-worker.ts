// One inference worker: owns an onnxruntime session and does preprocess → run → decode → NMS off the main
// thread (onnxruntime-node's run() blocks the event loop for the whole inference: measured 80 ms gaps).
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { ResolvedModel } from './model.js';
import { decodeOutputs, finishDetections, type DecodeOptions, type RawOutput } from './postprocess.js';
import { preprocess } from './preprocess.js';
import { type Image } from '../image/image.js';
import { type Rect } from '../image/geometry.js';
import { workerInit } from '../workers/worker-heap.js';
import type { DetectRequest, DetectResponse, WorkerInit } from './worker-protocol.js';

const init = workerInit<WorkerInit>();
const model: ResolvedModel = init.model;
const allowedIds = new Set(init.decode.allowedIds);
const decode: DecodeOptions = { ...init.decode, allowed: (id) => allowedIds.has(id) };
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
  const t0 = performance.now();
  const image = { ...request.image, data: new Uint8Array(request.buffer, request.byteOffset, request.byteLength) } as Image;
  const region: Rect = request.region ?? { x: 0, y: 0, width: image.width, height: image.height };
  const transform = preprocess(image, model, input, region);
  const t1 = performance.now();
  const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', input, [1, 3, model.input.height, model.input.width]) };
  const results = await session.run(feeds);
  const t2 = performance.now();
  const outputs: Record<string, RawOutput> = {};
  for (const name of session.outputNames) outputs[name] = { data: results[name]!.data as Float32Array, dims: results[name]!.dims };
  const options = request.scoreThreshold === undefined ? decode : { ...decode, scoreThreshold: request.scoreThreshold };
  const detections = finishDetections(decodeOutputs(model, outputs, options), transform, region, options);
  const t3 = performance.now();
  return {
    id: request.id,
    detections,
    timings: { preprocessMs: t1 - t0, inferenceMs: t2 - t1, decodeMs: t3 - t2 },
    buffer: request.buffer,
  };
}

function transferable(buffer: ArrayBuffer | SharedArrayBuffer): ArrayBuffer[] {
  return buffer instanceof ArrayBuffer ? [buffer] : [];
}
