// One camera's way from frames to events: frame → motion → regions → detector (shared,
// through the scheduler) → tracker → attributes (colour, plates) → recorder. The frame handler is synchronous and quick (motion on a
// downscaled Y plane), so the camera's reader is never held up by inference.
import type { CameraConfig, MotionSettings, TrackerConfig } from '../config/schema.js';
import type { LabeledDetection } from '../detect/detector.js';
import type { YuvImage } from '../image/image.js';
import { pipelineRegionOptions, planRegions } from '../detect/regions.js';
import type { EventRecorder } from '../events/event-recorder.js';
import type { Frame } from '../ingest/frame-reader.js';
import { MotionActivity } from '../motion/motion-activity.js';
import { MotionDetector } from '../motion/motion-detector.js';
import { boxToRect, type Rect } from '../image/geometry.js';
import { AttributeStage } from '../attributes/attribute-stage.js';
import { Picture } from '../attributes/picture.js';
import { PlateReading, type PlateStage } from '../attributes/plate-reading.js';
import { Tracker } from '../track/tracker.js';
import { EmptyRegions } from './empty-regions.js';
import type { DetectionOutcome, DetectionScheduler } from './detection-scheduler.js';


export interface PipelineObserver {
  motionActive?(camera: string, active: boolean): void;
  detectionFailed?(camera: string, err: Error): void;
  /** A frame with motion skipped the detector: every moving thing in it was a track moving as predicted. */
  coasted?(camera: string): void;
}

export class CameraPipeline {
  private readonly motion: MotionDetector;
  private readonly activity: MotionActivity;
  readonly tracker: Tracker;
  private closed = false;
  /** A frame of this camera is with the detector: its result, not an empty update, moves the tracker on. */
  private awaiting = false;
  private readonly attributes = new AttributeStage();
  private readonly empty: EmptyRegions;
  private readonly plateReading: PlateReading | undefined;

  constructor(
    readonly camera: CameraConfig,
    motion: MotionSettings,
    tracker: TrackerConfig,
    private readonly scheduler: DetectionScheduler,
    private readonly recorder: EventRecorder,
    private readonly observer: PipelineObserver = {},
    plates?: PlateStage,
  ) {
    const { width, height } = camera.detect;
    this.motion = new MotionDetector(width, height, motion, camera.motion_mask);
    this.activity = new MotionActivity(motion.start_frames, motion.quiet_s * 1000);
    this.tracker = new Tracker(tracker, width, height, camera.zones);
    this.empty = new EmptyRegions(motion.recheck_empty_s * 1000);
    this.plateReading = plates
      ? new PlateReading(
        plates,
        (track, plate, picture, at) => this.recorder.plateRead(track, plate, this.attributes.vehicle(track, picture, at)),
        (err) => this.observer.detectionFailed?.(this.camera.name, err),
      )
      : undefined;
  }

  /** The camera's frame consumer. */
  onFrame(frame: Frame): void {
    if (this.closed) return;
    const { width, height } = frame;
    const at = frame.capturedAt;
    const motion = this.motion.detect(frame.data.subarray(0, width * height));
    const { started, ended } = this.activity.update(motion.boxes, motion.changed, at);
    let copy: Picture | undefined;
    // One copy per frame that goes further (the reader reuses its buffers), shared with the inference
    // worker rather than copied again, and converted to RGB at most once.
    const picture = (): Picture => (copy ??= new Picture({ kind: 'yuv420p', width, height, data: sharedCopy(frame.data) }));
    const image = (): YuvImage => picture().frame;
    if (started) this.recorder.motionStarted(started.start, picture());
    if (ended) this.recorder.motionEnded(ended);
    if (started || ended) this.observer.motionActive?.(this.camera.name, this.activity.active);

    // Motion where the detector found nothing a moment ago (leaves, a flag, a lamp) waits for its recheck.
    const moving = this.empty.unexplained(motion.boxes, at);
    if (!this.awaiting && moving.length > 0 && this.tracker.canCoast(at, moving)) {
      // Everything moving is a track moving as predicted: its prediction carries it to the next look.
      this.observer.coasted?.(this.camera.name);
      this.apply(this.tracker.update([], at, []), picture, at);
      return;
    }
    const trackBoxes: Rect[] = this.tracker.regionsToExamine(at).map(boxToRect);
    const regions = planRegions([...moving, ...trackBoxes], width, height, pipelineRegionOptions(width, height, this.scheduler.input));
    if (regions.length === 0) {
      // Nothing to look at: tracks still age (a track nobody looks at is not missed, only unseen).
      if (!this.awaiting) this.apply(this.tracker.update([], at, []), picture, at);
      return;
    }
    this.awaiting = true;
    const threshold = this.camera.detect.score_threshold;
    this.scheduler.submit(
      { camera: this.camera.name, image: image(), regions, capturedAt: at, ...(threshold !== undefined ? { scoreThreshold: threshold } : {}) },
      (outcome) => {
        if (!outcome.error) this.empty.examined(moving, outcome.detections.map((d) => d.box), at);
        this.onDetections(outcome);
      },
    );
  }

  /** Ends open motion and object events (the camera stopped). */
  close(at = Date.now()): void {
    this.closed = true;
    const ended = this.activity.close(at);
    if (ended) this.recorder.motionEnded(ended);
    for (const t of this.tracker.endAll()) this.recorder.objectEnded(t, this.attributes.ended(t));
    this.plateReading?.close();
    this.observer.motionActive?.(this.camera.name, false);
  }

  private onDetections(outcome: DetectionOutcome): void {
    this.awaiting = false;
    if (this.closed) return;
    if (outcome.error) this.observer.detectionFailed?.(this.camera.name, outcome.error);
    const { job } = outcome;
    const inputs = outcome.detections.map((d: LabeledDetection) => ({ label: d.label, score: d.score, box: d.box, ...(d.parts ? { parts: d.parts } : {}) }));
    const picture = new Picture(job.image);
    this.apply(this.tracker.update(inputs, job.capturedAt, job.regions), () => picture, job.capturedAt);
    this.plateReading?.look(this.tracker.live, picture, job.capturedAt);
  }

  private apply(update: ReturnType<Tracker['update']>, picture: () => Picture, at: number): void {
    for (const t of update.confirmed) this.recorder.objectStarted(t, this.attributes.started(t, picture(), at));
    for (const t of update.improved) this.attributes.improved(t, picture(), at);
    for (const t of update.ended) {
      this.recorder.objectEnded(t, this.attributes.ended(t));
      this.plateReading?.forget(t);
    }
  }
}

function sharedCopy(data: Uint8Array): Uint8Array {
  const copy = new Uint8Array(new SharedArrayBuffer(data.length));
  copy.set(data);
  return copy;
}
