// Messages between the Detector and its inference workers.
import type { ResolvedModel } from './model.js';
import type { JoinedDetection } from './riders.js';
import type { Image } from '../image/image.js';
import type { Rect } from '../image/geometry.js';

export interface WorkerInit {
  model: ResolvedModel;
  threads: number;
  decode: { scoreThreshold: number; iouThreshold: number; maxDetections: number; allowedIds: number[] };
  /** Per class id, a threshold other than decode.scoreThreshold. */
  classThresholds: Record<number, number>;
  /** Joining riders to their bikes (riders.ts), when the model has people and two-wheelers. */
  riders?: {
    person: number;
    twoWheelers: number[];
    /** A two-wheeler this sure counts when a rider sits on it. */
    bikeThreshold: number;
    riderThreshold: number;
  };
}

export interface DetectRequest {
  id: number;
  image: Omit<Image, 'data'>;
  /** The pixels: a SharedArrayBuffer is read in place; an ArrayBuffer is transferred there and back. */
  buffer: ArrayBuffer | SharedArrayBuffer;
  byteOffset: number;
  byteLength: number;
  /** Where to look (the whole image when empty). Several regions run as tiles of one input when `pack`
   * is set (see tileLayout), one inference each otherwise. */
  regions: Rect[];
  pack: boolean;
  /** Overrides the detector's score threshold for this request. */
  scoreThreshold?: number;
}

export interface Timings {
  preprocessMs: number;
  /** All the request's inferences together. */
  inferenceMs: number;
  decodeMs: number;
  inferences: number;
}

export interface DetectResponse {
  id: number;
  detections?: JoinedDetection[];
  timings?: Timings;
  error?: string;
  buffer: ArrayBuffer | SharedArrayBuffer;
}
