// The detection stage: a pool of inference workers shared by all cameras, fed through a bounded queue.
// Callers get detections in their image's pixels with COCO (or the model's) label names.
import type { Worker } from 'node:worker_threads';
import type { DetectorConfig } from '../config/schema.js';
import { resolveModel, type ResolvedModel } from './model.js';
import type { Box } from '../image/geometry.js';
import { imageBytes, validateImage, type Image } from '../image/image.js';
import { type Rect } from '../image/geometry.js';
import { spawnWorker } from '../workers/spawn-worker.js';
import { TWO_WHEELERS } from '../vocabulary/labels.js';
import type { RiddenParts } from './riders.js';
import { inferenceSizing, type InferenceSizing } from './sizing.js';
import type { DetectRequest, DetectResponse, Timings, WorkerInit } from './worker-protocol.js';

export interface LabeledDetection {
  label: string;
  classId: number;
  score: number;
  box: Box;
  /** A ridden two-wheeler: the bike's box and its riders' (`box` holds them all). */
  parts?: RiddenParts;
}

export interface DetectResult {
  detections: LabeledDetection[];
  timings: Timings;
}

/** Thrown when the queue is full: the caller drops the frame (and counts it) rather than waiting. */
export class DetectorBusyError extends Error {
  constructor(depth: number) {
    super(`detector queue full (${depth} waiting)`);
    this.name = 'DetectorBusyError';
  }
}

interface Task {
  request: DetectRequest;
  resolve(result: DetectResult): void;
  reject(err: Error): void;
}

interface PoolWorker {
  worker: Worker;
  busy: Task | undefined;
}

export interface DetectorOptions {
  /** Most requests waiting for a worker; more are refused with DetectorBusyError. Default 4 per worker. */
  maxQueue?: number;
  /** Cameras the detector serves, for sizing `auto` workers and threads. Default 1. */
  cameras?: number;
}

export class Detector {
  private readonly workers: PoolWorker[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;

  private constructor(
    readonly model: ResolvedModel,
    /** Workers and threads per worker, and why. */
    readonly sizing: InferenceSizing,
    private readonly maxQueue: number,
    private readonly packRegions: boolean,
  ) {}

  static async create(config: DetectorConfig, options: DetectorOptions = {}): Promise<Detector> {
    const model = resolveModel(config.model);
    const sizing = inferenceSizing(config, options.cameras ?? 1);
    const detector = new Detector(model, sizing, options.maxQueue ?? 4 * sizing.workers, config.pack_regions);
    const allowedIds = config.classes.map((label) => model.labels.indexOf(label)).filter((i) => i >= 0);
    const classThresholds: Record<number, number> = {};
    for (const [label, threshold] of Object.entries(config.class_thresholds)) {
      const id = model.labels.indexOf(label);
      if (id >= 0) classThresholds[id] = threshold;
    }
    const person = model.labels.indexOf('person');
    const twoWheelers = TWO_WHEELERS.map((label) => model.labels.indexOf(label)).filter((i) => allowedIds.includes(i));
    const init: WorkerInit = {
      model,
      threads: sizing.threads,
      classThresholds,
      ...(config.riders.join && allowedIds.includes(person) && twoWheelers.length > 0
        ? { riders: { person, twoWheelers, bikeThreshold: config.riders.bike_threshold, riderThreshold: config.riders.rider_threshold } }
        : {}),
      decode: {
        scoreThreshold: config.score_threshold,
        iouThreshold: config.iou_threshold,
        maxDetections: config.max_detections,
        allowedIds,
      },
    };
    try {
      await Promise.all(Array.from({ length: sizing.workers }, () => detector.startWorker(init)));
    } catch (err) {
      await detector.close();
      throw err;
    }
    return detector;
  }

  /**
   * Detects objects in `image`, or in `regions` of it (tiles of one inference when the detector packs
   * regions, one inference each otherwise). Pixels in a SharedArrayBuffer are read in place by the worker
   * (the caller must not change them until the promise settles); others are copied.
   */
  detect(image: Image, regions?: Rect | readonly Rect[], options: { scoreThreshold?: number } = {}): Promise<DetectResult> {
    if (this.closed) return Promise.reject(new Error('detector is closed'));
    validateImage(image);
    if (this.queue.length >= this.maxQueue) return Promise.reject(new DetectorBusyError(this.queue.length));
    const byteLength = imageBytes(image.kind, image.width, image.height);
    let buffer: ArrayBuffer | SharedArrayBuffer;
    let byteOffset = 0;
    if (image.data.buffer instanceof SharedArrayBuffer) {
      buffer = image.data.buffer;
      byteOffset = image.data.byteOffset;
    } else {
      buffer = new ArrayBuffer(byteLength);
      new Uint8Array(buffer).set(image.data.subarray(0, byteLength));
    }
    const request: DetectRequest = {
      id: this.nextId++,
      image: { kind: image.kind, width: image.width, height: image.height },
      buffer,
      byteOffset,
      byteLength,
      regions: regions === undefined ? [] : Array.isArray(regions) ? [...regions] : [regions as Rect],
      pack: this.packRegions,
      ...(options.scoreThreshold !== undefined ? { scoreThreshold: options.scoreThreshold } : {}),
    };
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) task.reject(new Error('detector closed'));
    // Terminating a worker inside session.run() aborts the whole process (a native exception with no
    // JavaScript left to catch it): let running inferences finish first, for up to 5 s.
    const deadline = Date.now() + 5000;
    while (this.workers.some((w) => w.busy) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }

  private startWorker(init: WorkerInit): Promise<void> {
    const worker = spawnWorker(import.meta.url, 'detect-worker', init);
    const entry: PoolWorker = { worker, busy: undefined };
    this.workers.push(entry);
    return new Promise((resolve, reject) => {
      worker.once('error', reject);
      worker.once('message', (message: { type: string; error?: string }) => {
        if (message.type !== 'ready') return reject(new Error(message.error ?? 'inference worker failed to start'));
        worker.off('error', reject);
        worker.on('message', (response: DetectResponse) => this.onResponse(entry, response));
        worker.on('error', (err) => this.onWorkerError(entry, err));
        resolve();
      });
    });
  }

  private dispatch(): void {
    for (const entry of this.workers) {
      if (entry.busy || this.queue.length === 0) continue;
      const task = this.queue.shift()!;
      entry.busy = task;
      const { buffer } = task.request;
      entry.worker.postMessage(task.request, buffer instanceof ArrayBuffer ? [buffer] : []);
    }
  }

  private onResponse(entry: PoolWorker, response: DetectResponse): void {
    const task = entry.busy;
    entry.busy = undefined;
    if (task && task.request.id === response.id) {
      if (response.error || !response.detections || !response.timings) {
        task.reject(new Error(`detection failed: ${response.error ?? 'no result'}`));
      } else {
        const labels = this.model.labels;
        task.resolve({
          detections: response.detections.map((d) => ({ label: labels[d.classId] ?? String(d.classId), ...d })),
          timings: response.timings,
        });
      }
    }
    this.dispatch();
  }

  private onWorkerError(entry: PoolWorker, err: Error): void {
    entry.busy?.reject(new Error(`inference worker crashed: ${err.message}`));
    entry.busy = undefined;
    // A crashed worker leaves the pool; the remaining ones carry on.
    this.workers.splice(this.workers.indexOf(entry), 1);
    if (this.workers.length === 0) for (const task of this.queue.splice(0)) task.reject(new Error('no inference workers left'));
    else this.dispatch();
  }
}
