// Hands plate reads to the plate worker, one at a time: a vehicle that is not read this frame is read a
// moment later, so requests that find the worker busy are refused rather than queued.
import type { Worker } from 'node:worker_threads';
import { spawnWorker } from '../workers/spawn-worker.js';
import type { Image } from '../image/image.js';
import type { Rect } from '../image/geometry.js';
import type { PlateReading } from './plate-reader.js';
import type { PlateRequest } from './plate-worker.js';

export class PlateService {
  private busy: { id: number; resolve(p: PlateReading[]): void; reject(e: Error): void } | undefined;
  private nextId = 1;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: { id: number; plates?: PlateReading[]; error?: string }) => {
      const task = this.busy;
      this.busy = undefined;
      if (!task || task.id !== m.id) return;
      if (m.plates) task.resolve(m.plates);
      else task.reject(new Error(`plate reading failed: ${m.error}`));
    });
    worker.on('error', (err) => {
      this.busy?.reject(err);
      this.busy = undefined;
    });
  }

  static async start(threads = 1): Promise<PlateService> {
    const worker = spawnWorker(import.meta.url, 'plate-worker', { threads });
    await new Promise<void>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('message', (m: { type: string; error?: string }) => (m.type === 'ready' ? resolve() : reject(new Error(`plate reader failed to start: ${m.error}`))));
    });
    return new PlateService(worker);
  }

  /** Reads plates inside `region` of a frame whose pixels sit in a SharedArrayBuffer; undefined when busy. */
  read(image: Image, region: Rect): Promise<PlateReading[]> | undefined {
    if (this.busy) return undefined;
    const buffer = image.data.buffer;
    if (!(buffer instanceof SharedArrayBuffer)) throw new Error('plate reads take frames in a SharedArrayBuffer');
    const request: PlateRequest = {
      id: this.nextId++,
      image: { kind: image.kind, width: image.width, height: image.height },
      buffer,
      byteOffset: image.data.byteOffset,
      byteLength: image.data.byteLength,
      region,
    };
    return new Promise((resolve, reject) => {
      this.busy = { id: request.id, resolve, reject };
      this.worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    // As with the detector: never terminate the worker inside a native run.
    for (let i = 0; i < 500 && this.busy; i++) await new Promise((r) => setTimeout(r, 10));
    await this.worker.terminate();
  }
}
