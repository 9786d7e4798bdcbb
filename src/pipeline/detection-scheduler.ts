// Shares the detector fairly between cameras. Each camera has one slot for its newest frame: a newer one
// replaces an older one still waiting (counted as dropped), cameras take turns, and a camera never has two
// frames in flight (its tracker needs results in order). Memory is bounded by cameras + workers.
import type { Detector, LabeledDetection } from '../detect/detector.js';
import { nms } from '../detect/nms.js';
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
  inference?(seconds: number): void;
}

interface Pending {
  job: DetectionJob;
  done: (outcome: DetectionOutcome) => void;
}

export class DetectionScheduler {
  private readonly pending = new Map<string, Pending>();
  private readonly inFlight = new Set<string>();
  private running = 0;

  constructor(
    private readonly detector: Detector,
    private readonly slots: number,
    private readonly iouThreshold: number,
    private readonly observer: SchedulerObserver = {},
  ) {}

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
  }

  private pump(): void {
    while (this.running < this.slots) {
      const next = [...this.pending.entries()].find(([camera]) => !this.inFlight.has(camera));
      if (!next) return;
      const [camera, item] = next;
      this.pending.delete(camera);
      this.inFlight.add(camera);
      this.running++;
      void this.run(item).finally(() => {
        this.inFlight.delete(camera);
        this.running--;
        this.pump();
      });
    }
  }

  private async run({ job, done }: Pending): Promise<void> {
    const found: LabeledDetection[] = [];
    try {
      for (const region of job.regions) {
        const options = job.scoreThreshold === undefined ? {} : { scoreThreshold: job.scoreThreshold };
        const { detections, timings } = await this.detector.detect(job.image, region, options);
        this.observer.inference?.(timings.inferenceMs / 1000);
        found.push(...detections);
      }
      // Overlapping regions can see the same object twice.
      done({ job, detections: job.regions.length > 1 ? nms(found, this.iouThreshold, 1000) : found });
    } catch (err) {
      done({ job, detections: [], error: err as Error });
    }
  }
}
