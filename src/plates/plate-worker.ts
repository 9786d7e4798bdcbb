// The plate reader's worker thread: PP-OCR runs here, off the daemon's event loop.
import { parentPort } from 'node:worker_threads';
import type { Image } from '../image/image.js';
import type { Rect } from '../image/geometry.js';
import { yuv420pToRgb } from '../image/yuv.js';
import { workerInit } from '../workers/worker-heap.js';
import { PlateReader } from './plate-reader.js';

export interface PlateRequest {
  id: number;
  image: Omit<Image, 'data'>;
  buffer: ArrayBuffer | SharedArrayBuffer;
  byteOffset: number;
  byteLength: number;
  region: Rect;
}

let reader: PlateReader;
try {
  reader = await PlateReader.create({ threads: workerInit<{ threads: number }>().threads });
  parentPort!.postMessage({ type: 'ready' });
} catch (err) {
  parentPort!.postMessage({ type: 'failed', error: (err as Error).message });
  process.exit(1);
}

parentPort!.on('message', (request: PlateRequest) => {
  const data = new Uint8Array(request.buffer, request.byteOffset, request.byteLength);
  const image = { ...request.image, data } as Image;
  const rgb = image.kind === 'rgb' ? image : yuv420pToRgb(image);
  reader.read(rgb, request.region).then(
    (plates) => parentPort!.postMessage({ id: request.id, plates }),
    (err: unknown) => parentPort!.postMessage({ id: request.id, error: (err as Error).message }),
  );
});
