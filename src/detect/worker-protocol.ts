// Messages between the Detector and its inference workers.
import type { ResolvedModel } from './model.js';
import type { Detection } from './nms.js';
import type { Image, Rect } from './preprocess.js';

export interface WorkerInit {
  model: ResolvedModel;
  threads: number;
  decode: { scoreThreshold: number; iouThreshold: number; maxDetections: number; allowedIds: number[] };
}

export interface DetectRequest {
  id: number;
  image: Omit<Image, 'data'>;
  /** The pixels, transferred (not copied) to the worker and back. */
  buffer: ArrayBuffer;
  byteLength: number;
  region?: Rect;
  /** Overrides the detector's score threshold for this request. */
  scoreThreshold?: number;
}

export interface Timings {
  preprocessMs: number;
  inferenceMs: number;
  decodeMs: number;
}

export interface DetectResponse {
  id: number;
  detections?: Detection[];
  timings?: Timings;
  error?: string;
  buffer: ArrayBuffer;
}
