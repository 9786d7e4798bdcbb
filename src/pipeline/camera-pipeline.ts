// One camera's way from frames to events: frame → motion → regions → detector (shared,
// through the scheduler) → tracker → recorder. The frame handler is synchronous and quick (motion on a
// downscaled Y plane), so the camera's reader is never held up by inference.
import type { CameraConfig, MotionSettings, PlatesConfig, TrackerConfig } from '../config/schema.js';
import type { LabeledDetection } from '../detect/detector.js';
import type { YuvImage } from '../image/image.js';
import { planRegions } from '../detect/regions.js';
import type { EventRecorder } from '../events/event-recorder.js';
import type { Frame } from '../ingest/frame-reader.js';
import { MotionActivity } from '../motion/motion-activity.js';
import { MotionDetector } from '../motion/motion-detector.js';
import { boxToRect, type Rect } from '../image/geometry.js';
import type { PlateService } from '../plates/plate-service.js';
import { PlateVote } from '../plates/plate-vote.js';
import { Tracker, type Track } from '../track/tracker.js';
import type { DetectionOutcome, DetectionScheduler } from './detection-scheduler.js';
import { PLATED_VEHICLES } from '../vocabulary/labels.js';

/** The plate stage a pipeline hands vehicles to, when plates are enabled. */
export interface PlateStage {
  service: PlateService;
  config: PlatesConfig;
}


export interface PipelineObserver {
  motionActive?(camera: string, active: boolean): void;
  detectionFailed?(camera: string, err: Error): void;
}

export class CameraPipeline {
  private readonly motion: MotionDetector;
  private readonly activity: MotionActivity;
  readonly tracker: Tracker;
  private closed = false;
  /** A frame of this camera is with the detector: its result, not an empty update, moves the tracker on. */
  private awaiting = false;
  private readonly plateState = new Map<Track, { vote: PlateVote; lastRead: number; done: boolean }>();

  constructor(
    readonly camera: CameraConfig,
    motion: MotionSettings,
    tracker: TrackerConfig,
    private readonly scheduler: DetectionScheduler,
    private readonly recorder: EventRecorder,
    private readonly observer: PipelineObserver = {},
    private readonly plates?: PlateStage,
  ) {
    const { width, height } = camera.detect;
    this.motion = new MotionDetector(width, height, motion, camera.motion_mask);
    this.activity = new MotionActivity(motion.start_frames, motion.quiet_s * 1000);
    this.tracker = new Tracker(tracker, width, height, camera.zones);
  }

  /** The camera's frame consumer. */
  onFrame(frame: Frame): void {
    if (this.closed) return;
    const { width, height } = frame;
    const at = frame.capturedAt;
    const motion = this.motion.detect(frame.data.subarray(0, width * height));
    const { started, ended } = this.activity.update(motion.boxes, motion.changed, at);
    let copy: YuvImage | undefined;
    // One copy per frame that goes further (the reader reuses its buffers), shared with the inference
    // worker rather than copied again.
    const image = (): YuvImage => (copy ??= { kind: 'yuv420p', width, height, data: sharedCopy(frame.data) });
    if (started) this.recorder.motionStarted(started.start, image());
    if (ended) this.recorder.motionEnded(ended);
    if (started || ended) this.observer.motionActive?.(this.camera.name, this.activity.active);

    const trackBoxes: Rect[] = this.tracker.regionsToExamine(at).map(boxToRect);
    const regions = planRegions([...motion.boxes, ...trackBoxes], width, height, {
      minSide: Math.min(width, height) * 0.6,
      maxRegions: 3,
      margin: 0.25,
    });
    if (regions.length === 0) {
      // Nothing to look at: tracks still age (a track nobody looks at is not missed, only unseen).
      if (!this.awaiting) this.apply(this.tracker.update([], at, []), image, at);
      return;
    }
    this.awaiting = true;
    const threshold = this.camera.detect.score_threshold;
    this.scheduler.submit(
      { camera: this.camera.name, image: image(), regions, capturedAt: at, ...(threshold !== undefined ? { scoreThreshold: threshold } : {}) },
      (outcome) => this.onDetections(outcome),
    );
  }

  /** Ends open motion and object events (the camera stopped). */
  close(at = Date.now()): void {
    this.closed = true;
    const ended = this.activity.close(at);
    if (ended) this.recorder.motionEnded(ended);
    for (const t of this.tracker.endAll()) this.recorder.objectEnded(t);
    this.observer.motionActive?.(this.camera.name, false);
  }

  private onDetections(outcome: DetectionOutcome): void {
    this.awaiting = false;
    if (this.closed) return;
    if (outcome.error) this.observer.detectionFailed?.(this.camera.name, outcome.error);
    const { job } = outcome;
    const inputs = outcome.detections.map((d: LabeledDetection) => ({ label: d.label, score: d.score, box: d.box }));
    this.apply(this.tracker.update(inputs, job.capturedAt, job.regions), () => job.image, job.capturedAt);
    if (this.plates) this.readPlates(job.image, job.capturedAt, this.plates);
  }

  /** Vehicles seen in this frame, big enough and not read lately, get a plate read; votes become events. */
  private readPlates(image: YuvImage, at: number, plates: PlateStage): void {
    const { config, service } = plates;
    for (const track of this.tracker.live) {
      if (track.state !== 'confirmed' || track.lastSeen !== at || !PLATED_VEHICLES.includes(track.label)) continue;
      const [x1, y1, x2, y2] = track.box;
      if (x2 - x1 < config.min_vehicle_width) continue;
      let state = this.plateState.get(track);
      if (!state) this.plateState.set(track, (state = { vote: new PlateVote(config.min_reads), lastRead: -Infinity, done: false }));
      if (state.done || at - state.lastRead < config.interval_s * 1000) continue;
      const pending = service.read(image, { x: x1, y: y1, width: x2 - x1, height: y2 - y1 });
      if (!pending) return; // the plate worker is busy: try again on a later frame
      state.lastRead = at;
      const s = state;
      pending.then(
        (readings) => {
          if (this.closed) return;
          if (readings[0]) s.vote.add(readings[0]);
          const voted = s.done ? undefined : s.vote.result();
          if (!voted) return;
          s.done = true;
          this.recorder.plateRead(track, voted, image, at);
        },
        (err: unknown) => this.observer.detectionFailed?.(this.camera.name, err as Error),
      );
    }
  }

  private apply(update: ReturnType<Tracker['update']>, image: () => YuvImage, at: number): void {
    for (const t of update.confirmed) this.recorder.objectStarted(t, image(), at);
    for (const t of update.improved) this.recorder.objectImproved(t, image(), at);
    for (const t of update.ended) {
      this.recorder.objectEnded(t);
      this.plateState.delete(t);
    }
  }
}

function sharedCopy(data: Uint8Array): Uint8Array {
  const copy = new Uint8Array(new SharedArrayBuffer(data.length));
  copy.set(data);
  return copy;
}
