// Shares the detector fairly between cameras. Each camera has one slot for its newest frame: a newer one
// replaces an older one still waiting (counted as dropped), and a camera never has two frames in flight
// (its tracker needs results in order). When the detector is saturated, the waiting camera served least
// recently goes next, so every busy camera is detected once per round however fast the others submit.
// Memory is bounded by cameras + workers.
import type { Detector, LabeledDetection } from '../detect/detector.js';
import type { YuvImage } from '../image/image.js';
import type { Rect } from '../image/geometry.js';

export interface DetectionJob {
  camera: string;
  /** A private copy of the frame (the reader's buffer is reused). */
  image: YuvImage;
  regions: Rect[];
  capturedAt: number;
  /** The camera's own score threshold, if it has one. */
  scoreThreshold?: number;
}

export interface DetectionOutcome {
  job: DetectionJob;
  detections: LabeledDetection[];
  error?: Error;
}

export interface SchedulerObserver {
  dropped?(camera: string): void;
  /** One request's inferences took `seconds` together. */
  inference?(seconds: number, inferences: number): void;
  /** The camera's frame went to the detector, `sinceLastS` after its previous one did (undefined: the
   * first, or after a quiet spell). */
  served?(camera: string, sinceLastS: number | undefined): void;
}

/** A gap longer than this between two of a camera's detections is a quiet spell, not a slow detector. */
const QUIET_GAP_MS = 10_000;

interface Pending {
  job: DetectionJob;
  done: (outcome: DetectionOutcome) => void;
}

export class DetectionScheduler {
  private readonly pending = new Map<string, Pending>();
  private readonly inFlight = new Set<string>();
  /** performance.now() when each camera's last frame went to the detector. */
  private readonly lastServed = new Map<string, number>();
  private running = 0;

  constructor(
    private readonly detector: Detector,
    private readonly slots: number,
    private readonly observer: SchedulerObserver = {},
  ) {}

  /** The model's input size: regions are planned in its shape. */
  get input(): { width: number; height: number } {
    return this.detector.model.input;
  }

  /** Frames waiting for the detector. */
  get depth(): number {
    return this.pending.size;
  }

  /** Busy slots over all slots, 0..1. */
  get utilisation(): number {
    return this.running / this.slots;
  }

  submit(job: DetectionJob, done: (outcome: DetectionOutcome) => void): void {
    if (this.pending.has(job.camera)) {
      // Map.set on an existing key keeps its place in the turn order: replacing never loses a camera's turn.
      this.observer.dropped?.(job.camera);
    }
    this.pending.set(job.camera, { job, done });
    this.pump();
  }

  /** Drops a camera's waiting frame (the camera was removed); a frame already in flight finishes. */
  forget(camera: string): void {
    this.pending.delete(camera);
    this.lastServed.delete(camera);
  }

  private pump(): void {
    while (this.running < this.slots) {
      const camera = this.next();
      if (camera === undefined) return;
      const item = this.pending.get(camera)!;
      this.pending.delete(camera);
      this.inFlight.add(camera);
      this.running++;
      const now = performance.now();
      const last = this.lastServed.get(camera);
      this.lastServed.set(camera, now);
      this.observer.served?.(camera, last !== undefined && now - last < QUIET_GAP_MS ? (now - last) / 1000 : undefined);
      void this.run(item).finally(() => {
        this.inFlight.delete(camera);
        this.running--;
        this.pump();
      });
    }
  }

  /** The waiting camera, not in flight, served least recently (never served counts as longest ago). */
  private next(): string | undefined {
    let best: string | undefined;
    let bestAt = Infinity;
    for (const camera of this.pending.keys()) {
      if (this.inFlight.has(camera)) continue;
      const at = this.lastServed.get(camera) ?? -Infinity;
      if (at < bestAt) {
        best = camera;
        bestAt = at;
      }
    }
    return best;
  }

  private async run({ job, done }: Pending): Promise<void> {
    try {
      const options = job.scoreThreshold === undefined ? {} : { scoreThreshold: job.scoreThreshold };
      const { detections, timings } = await this.detector.detect(job.image, job.regions, options);
      this.observer.inference?.(timings.inferenceMs / 1000, timings.inferences);
      done({ job, detections });
    } catch (err) {
      done({ job, detections: [], error: err as Error });
    }
  }
}
