// One unit per enabled camera: its ingest, pipeline and recorder, started and stopped together, so that a
// reload can replace one camera without touching the others.
import type { Logger } from 'pino';
import type { CameraConfig, VigilConfig } from '../config/schema.js';
import { EventRecorder } from '../events/event-recorder.js';
import type { SnapshotWriter } from '../events/snapshots.js';
import type { EventStore } from '../events/store.js';
import { CameraSupervisor, type CameraStatus } from '../ingest/camera-supervisor.js';
import type { FfmpegBinary } from '../ingest/ffmpeg.js';
import type { VigilMetrics } from '../metrics/metrics.js';
import { CameraPipeline } from '../pipeline/camera-pipeline.js';
import type { DetectionScheduler } from '../pipeline/detection-scheduler.js';
import type { PlateService } from '../plates/plate-service.js';
import { SegmentRecorder } from '../recording/segment-recorder.js';

interface CameraUnit {
  config: CameraConfig;
  supervisor: CameraSupervisor;
  pipeline: CameraPipeline;
  recorder: EventRecorder;
}

export interface CameraUnitDeps {
  ffmpeg: FfmpegBinary;
  store: EventStore;
  snapshots: SnapshotWriter;
  scheduler: DetectionScheduler;
  plates: PlateService | undefined;
  metrics: VigilMetrics;
  logger: Logger;
  /** data_dir/recordings */
  recordingsRoot: string;
}

export class CameraUnits {
  private readonly units = new Map<string, CameraUnit>();

  constructor(private readonly deps: CameraUnitDeps) {}

  get names(): Set<string> {
    return new Set(this.units.keys());
  }

  get size(): number {
    return this.units.size;
  }

  statuses(): CameraStatus[] {
    return [...this.units.values()].map((u) => u.supervisor.status());
  }

  /** Status with each camera's ffmpeg pid, for the per-camera metrics. */
  statusesWithPid(): Array<CameraStatus & { pid: number | undefined }> {
    return [...this.units.values()].map((u) => ({ ...u.supervisor.status(), pid: u.supervisor.pid }));
  }

  /** Builds the unit of `camera` with `settings` (the config it belongs to); `start` pulls its stream at once. */
  add(camera: CameraConfig, settings: VigilConfig, start = true): void {
    const { metrics, logger, store, snapshots, scheduler, plates, ffmpeg } = this.deps;
    metrics.registerCamera(camera.name);
    const segments = new SegmentRecorder(camera.name, camera.record, {
      index: store.segments,
      root: this.deps.recordingsRoot,
      settings: () => settings.recording,
      logger,
      observer: metrics.recording,
      resume: () => void supervisor.restart(),
    });
    const supervisor: CameraSupervisor = new CameraSupervisor(camera, {
      ffmpeg,
      ingest: settings.ingest,
      inputArgs: settings.ffmpeg.input_args,
      decodeThreads: settings.ffmpeg.decode_threads,
      logger,
      observer: metrics,
      ...(segments.enabled ? { recorder: segments } : {}),
    });
    const recorder = new EventRecorder(camera, store, snapshots, logger, {
      recorded: (event, seconds) => metrics.recorded(event.kind, event.label, seconds),
    });
    const pipeline = new CameraPipeline(
      camera,
      settings.motion,
      settings.tracker,
      scheduler,
      recorder,
      {
        motionActive: (name, active) => metrics.motionActive(name, active),
        detectionFailed: (name, err) => {
          metrics.detectionFailed(name);
          logger.warn({ camera: name, err: err.message }, 'detection failed');
        },
        coasted: (name) => metrics.coasted(name),
      },
      plates ? { service: plates, config: settings.plates } : undefined,
    );
    supervisor.setConsumer((frame) => pipeline.onFrame(frame));
    this.units.set(camera.name, { config: camera, supervisor, pipeline, recorder });
    if (start) supervisor.start();
  }

  /** Pulls every unit's stream (the daemon builds its units before the API listens, starts them after). */
  startAll(): void {
    for (const unit of this.units.values()) unit.supervisor.start();
  }

  /** Intake first, then the open events are ended and written: nothing the camera saw is lost. */
  async stop(name: string, forget = false): Promise<void> {
    const unit = this.units.get(name);
    if (!unit) return;
    await unit.supervisor.stop();
    unit.pipeline.close();
    this.deps.scheduler.forget(name);
    await unit.recorder.settle();
    if (forget) {
      this.units.delete(name);
      await this.deps.metrics.unregisterCamera(name);
    }
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.units.keys()].map((name) => this.stop(name)));
  }
}
