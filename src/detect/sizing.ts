// How many inference workers, and threads each, a box runs when the config says `auto`. Measured on 2
// cores (docs/operations.md, Sizing): one single-threaded session per core detects the most per CPU-second, because
// intra-op threads synchronise at every layer and a camera's decoder takes a core's slices anyway; a
// second thread in one session only pays when one camera is all there is to detect for.
import os from 'node:os';
import type { DetectorConfig } from '../config/schema.js';

/** CPU one camera's ffmpeg takes to decode a 720p25 H.264 stream down to 640x360 at 5 fps (measured). */
export const DECODE_CORES_PER_CAMERA = 0.07;
const MAX_WORKERS = 8;

export interface InferenceSizing {
  workers: number;
  threads: number;
  /** Why: the rule as applied, for the log. */
  reason: string;
}

export function inferenceSizing(config: Pick<DetectorConfig, 'workers' | 'threads'>, cameras: number, cores = os.availableParallelism()): InferenceSizing {
  // The cores decoding leaves free for inference, a part-free core counted (the OS shares it), at least one.
  const free = Math.max(1, Math.ceil(cores - cameras * DECODE_CORES_PER_CAMERA - 0.05));
  const workers = config.workers === 'auto' ? Math.min(MAX_WORKERS, cameras <= 1 ? 1 : free) : config.workers;
  const threads = config.threads === 'auto' ? Math.max(1, Math.min(4, Math.floor(free / workers))) : config.threads;
  const reason =
    config.workers === 'auto' || config.threads === 'auto'
      ? `${cores} cores, ${cameras} cameras decoding ~${(cameras * DECODE_CORES_PER_CAMERA).toFixed(1)} cores: ${free} left for inference`
      : 'set in the config';
  return { workers, threads, reason };
}
