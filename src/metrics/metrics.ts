// vigil's Prometheus metrics, designed in rather than bolted on. Metric names and labels are a contract
// with dashboards and alert rules (deploy/): change them only with those.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CAMERA_STATES, type CameraObserver, type CameraStatus } from '../ingest/camera-supervisor.js';
import type { CameraErrorKind } from '../ingest/ffmpeg-errors.js';
import type { DropReason } from '../ingest/frame-reader.js';

/** busy / truncated: lost in ingest; detector_busy: a newer frame of the camera replaced it before detection. */
export type FrameDropReason = DropReason | 'detector_busy';
import { readProcessCpuSeconds } from './process-cpu.js';

type SetSample = (labels: Record<string, string>, value: number) => void;

export interface CameraStatusSource {
  cameras(): Array<CameraStatus & { pid?: number | undefined }>;
}

export class VigilMetrics implements CameraObserver {
  readonly registry = new Registry();
  private statusSource: CameraStatusSource = { cameras: () => [] };

  private readonly framesTotal = new Counter({
    name: 'vigil_frames_total',
    help: 'Frames read from each camera at its detect size and rate',
    labelNames: ['camera'],
    registers: [this.registry],
  });
  private readonly droppedTotal = new Counter({
    name: 'vigil_frames_dropped_total',
    help: 'Frames not fully processed, by reason (busy: motion still on an older frame; truncated: stream ended mid-frame; detector_busy: replaced by a newer frame before detection)',
    labelNames: ['camera', 'reason'],
    registers: [this.registry],
  });
  private readonly restartsTotal = new Counter({
    name: 'vigil_camera_restarts_total',
    help: 'Times vigil restarted a camera\'s ffmpeg after it stopped delivering',
    labelNames: ['camera'],
    registers: [this.registry],
  });
  private readonly errorsTotal = new Counter({
    name: 'vigil_camera_errors_total',
    help: 'Camera stream failures by kind (refused, not_found, unauthorized, stall, exited, ...)',
    labelNames: ['camera', 'kind'],
    registers: [this.registry],
  });
  private readonly connectSeconds = new Histogram({
    name: 'vigil_camera_connect_seconds',
    help: 'Seconds from starting a camera\'s ffmpeg to its first frame',
    labelNames: ['camera'],
    buckets: [0.25, 0.5, 1, 2, 3, 5, 8, 13, 20],
    registers: [this.registry],
  });

  private readonly eventsTotal = new Counter({
    name: 'vigil_events_total',
    help: 'Events recorded (committed to the store), by kind and label',
    labelNames: ['kind', 'label'],
    registers: [this.registry],
  });
  private readonly inferenceSeconds = new Histogram({
    name: 'vigil_inference_seconds',
    help: 'Seconds one detector inference took (one frame: its regions as tiles of one input, or one region)',
    buckets: [0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  private readonly detectionsTotal = new Counter({
    name: 'vigil_detections_total',
    help: 'Frames of the camera that went to the detector',
    labelNames: ['camera'],
    registers: [this.registry],
  });
  private readonly coastedTotal = new Counter({
    name: 'vigil_frames_coasted_total',
    help: 'Frames with motion that skipped the detector because every moving thing in them was a track moving as predicted (tracker.coast_s)',
    labelNames: ['camera'],
    registers: [this.registry],
  });
  private readonly detectionInterval = new Histogram({
    name: 'vigil_detection_interval_seconds',
    help: 'Seconds between two frames of a busy camera going to the detector (gaps over 10 s, quiet spells, are left out)',
    labelNames: ['camera'],
    buckets: [0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10],
    registers: [this.registry],
  });
  private readonly pipelineLatency = new Histogram({
    name: 'vigil_pipeline_latency_seconds',
    help: 'Seconds from capturing the frame that made an event to the event being committed',
    buckets: [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10],
    registers: [this.registry],
  });
  private readonly motionActiveGauge = new Gauge({
    name: 'vigil_motion_active',
    help: '1 while a motion event is open on the camera',
    labelNames: ['camera'],
    registers: [this.registry],
  });
  private readonly detectionErrors = new Counter({
    name: 'vigil_detection_errors_total',
    help: 'Detector requests that failed',
    labelNames: ['camera'],
    registers: [this.registry],
  });
  private pipelineSource: { queueDepth(): number; utilisation(): number; storeBytes(): number } | undefined;

  // The live view (src/live/live-view.ts) updates these itself: viewers come and go on its own schedule.
  readonly liveViewers = new Gauge({
    name: 'vigil_live_viewers',
    help: 'WebSocket viewers watching the camera live',
    labelNames: ['camera'],
    registers: [this.registry],
  });
  readonly liveTranscoderStarts = new Counter({
    name: 'vigil_live_transcoder_starts_total',
    help: 'Live-view ffmpeg (MPEG-1) transcoders started for the camera, first starts and restarts',
    labelNames: ['camera'],
    registers: [this.registry],
  });
  readonly liveChunksSkipped = new Counter({
    name: 'vigil_live_chunks_skipped_total',
    help: 'Live-view chunks not sent to a viewer whose connection could not keep up',
    labelNames: ['camera'],
    registers: [this.registry],
  });

  // What the network turned away: the bus's refused subscriptions and peers and its process replacements, and
  // the API's refused credentials. A rise is someone probing the box (docs/security.md).
  private readonly busRefused = new Counter({
    name: 'vigil_bus_refused_total',
    help: 'Event-bus subscriptions that can match no topic, and peers refused at the CURVE handshake',
    labelNames: ['what'],
    registers: [this.registry],
  });
  private readonly busRestarts = new Counter({
    name: 'vigil_bus_restarts_total',
    help: 'Event-bus processes replaced: over their memory budget (a flood) or exited',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly segmentsTotal = new Counter({
    name: 'vigil_recording_segments_total',
    help: "Segments of each camera's own stream written to disk (copied, not re-encoded)",
    labelNames: ['camera'],
    registers: [this.registry],
  });
  private readonly recordedBytesTotal = new Counter({
    name: 'vigil_recording_bytes_total',
    help: "Bytes of each camera's stream written to disk as segments",
    labelNames: ['camera'],
    registers: [this.registry],
  });
  private readonly recordingActive = new Gauge({
    name: 'vigil_recording_active',
    help: 'Whether the camera is being recorded now (0: recording is paused, e.g. the disk is nearly full, or its stream is down)',
    labelNames: ['camera'],
    registers: [this.registry],
  });
  private readonly clipsTotal = new Counter({
    name: 'vigil_clips_total',
    help: 'Event clips by outcome (written; truncated: the stream ended inside the window; no_video: nothing recorded for it; failed)',
    labelNames: ['result'],
    registers: [this.registry],
  });
  private readonly clipSeconds = new Histogram({
    name: 'vigil_clip_assembly_seconds',
    help: 'Seconds to assemble an event clip from its segments (copying, hashing, writing)',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
    registers: [this.registry],
  });
  private readonly authRefusedTotal = new Counter({
    name: 'vigil_api_auth_refused_total',
    help: 'Wrong tokens or session cookies presented to the API, and requests refused while their address was locked out',
    labelNames: ['reason'],
    registers: [this.registry],
  });

  constructor() {
    // The event-loop lag histogram samples every 10 ms by default: 100 wake-ups a second on an idle box.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 50 });
    // Zero from the start: increase() over a series that appears with its first refusal misses that refusal.
    for (const what of ['subscription', 'client']) this.busRefused.inc({ what }, 0);
    for (const reason of ['memory', 'exited']) this.busRestarts.inc({ reason }, 0);
    for (const reason of ['wrong-credential', 'locked-out']) this.authRefusedTotal.inc({ reason }, 0);
    type Status = ReturnType<CameraStatusSource['cameras']>[number];
    // Per-camera gauges read the supervisors' status at scrape time: nothing to keep in step.
    const cameraGauge = (name: string, help: string, labelNames: string[], fill: (set: SetSample, c: Status) => void) =>
      this.scrapedGauge(name, help, labelNames, (set) => {
        for (const c of this.statusSource.cameras()) fill(set, c);
      });
    cameraGauge('vigil_camera_up', '1 while frames arrive from the camera, 0 otherwise', ['camera'], (set, c) =>
      set({ camera: c.name }, c.state === 'up' ? 1 : 0),
    );
    cameraGauge('vigil_camera_state', "1 for the camera's current state (starting, up, down, failed, stopped)", ['camera', 'state'], (set, c) => {
      for (const s of CAMERA_STATES) set({ camera: c.name, state: s }, c.state === s ? 1 : 0);
    });
    cameraGauge('vigil_last_frame_age_seconds', "Seconds since the camera's last frame (absent until its first frame)", ['camera'], (set, c) => {
      if (c.lastFrameAgeS !== null) set({ camera: c.name }, c.lastFrameAgeS);
    });
    cameraGauge('vigil_camera_fps', 'Frames per second received from the camera over the last 10 s', ['camera'], (set, c) =>
      set({ camera: c.name }, c.fps),
    );
    cameraGauge('vigil_camera_info', 'Static camera facts as labels (value always 1)', ['camera', 'location'], (set, c) =>
      set({ camera: c.name, location: c.location }, 1),
    );
    cameraGauge('vigil_ffmpeg_cpu_seconds', "CPU seconds used by the camera's current ffmpeg child (user + system); resets when it restarts", ['camera'], (set, c) => {
      const cpu = c.pid === undefined ? undefined : readProcessCpuSeconds(c.pid);
      if (cpu !== undefined) set({ camera: c.name }, cpu);
    });
  }

  /** A gauge whose series are all set anew at every scrape by `fill`; series it does not set are gone. */
  private scrapedGauge(name: string, help: string, labelNames: string[], fill: (set: SetSample) => void): Gauge {
    return new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect: () => {
        const gauge = this.registry.getSingleMetric(name) as Gauge;
        gauge.reset();
        fill((labels, v) => gauge.set(labels, v));
      },
    });
  }

  /** Where the pipeline gauges read from at scrape time. */
  setPipelineSource(source: { queueDepth(): number; utilisation(): number; storeBytes(): number }): void {
    this.pipelineSource = source;
    const read = (name: string, help: string, value: () => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect: () => (this.registry.getSingleMetric(name) as Gauge).set(value()),
      });
    read('vigil_detector_queue_depth', 'Frames waiting for the detector (at most one per camera)', () => this.pipelineSource!.queueDepth());
    read('vigil_detector_utilisation', 'Busy inference workers over all workers, now (0..1)', () => this.pipelineSource!.utilisation());
    read('vigil_store_bytes', 'Bytes of the event store (pages in use, WAL), its snapshots, clips and recorded segments', () => this.pipelineSource!.storeBytes());
  }

  /**
   * Where the worker threads' heap gauges read from at scrape time (prom-client's nodejs_heap_* cover the
   * main thread only). A worker that has exited has no series.
   */
  setWorkerHeapSource(source: () => Array<{ worker: string; usedBytes: number; totalBytes: number }>): void {
    const heapGauge = (name: string, help: string, value: (h: ReturnType<typeof source>[number]) => number) =>
      this.scrapedGauge(name, help, ['worker'], (set) => {
        for (const heap of source()) set({ worker: heap.worker }, value(heap));
      });
    heapGauge('vigil_worker_heap_used_bytes', 'V8 heap in use in each worker thread (detect-worker-N: inference; plate-worker-1: plate reader), last reported', (h) => h.usedBytes);
    heapGauge('vigil_worker_heap_size_bytes', 'V8 heap size (committed) of each worker thread, last reported', (h) => h.totalBytes);
  }

  /** vigil_info: the version and the memory allocator as labels, 1 always (an alert can catch a box on glibc's). */
  setInfo(info: { version: string; allocator: string }): void {
    new Gauge({
      name: 'vigil_info',
      help: 'vigil version and memory allocator (jemalloc, or system: see docs/operations.md "Memory") as labels; value always 1',
      labelNames: ['version', 'allocator'],
      registers: [this.registry],
    }).set(info, 1);
  }

  private storeBudget: Gauge | undefined;
  /**
   * The store's disk budget (store.max_disk_gb), beside vigil_store_bytes for the dashboard and the
   * disk-budget alert. Created on the first call rather than at zero: a scrape before it would read a
   * zero budget, an infinitely full store. Call it again when a reload changes the budget.
   */
  setStoreBudget(bytes: number): void {
    this.storeBudget ??= new Gauge({
      name: 'vigil_store_budget_bytes',
      help: 'Disk budget of the event store, snapshots, clips and recordings (store.max_disk_gb); retention deletes the oldest beyond it',
      registers: [this.registry],
    });
    this.storeBudget.set(bytes);
  }

  recorded(kind: string, label: string | null, captureToCommitS: number): void {
    this.eventsTotal.inc({ kind, label: label ?? '' });
    this.pipelineLatency.observe(captureToCommitS);
  }
  /** `inferences` runs took `seconds` together. */
  inference(seconds: number, inferences = 1): void {
    for (let i = 0; i < inferences; i++) this.inferenceSeconds.observe(seconds / inferences);
  }
  coasted(camera: string): void {
    this.coastedTotal.inc({ camera });
  }
  detected(camera: string, sinceLastS: number | undefined): void {
    this.detectionsTotal.inc({ camera });
    if (sinceLastS !== undefined) this.detectionInterval.observe({ camera }, sinceLastS);
  }
  motionActive(camera: string, active: boolean): void {
    this.motionActiveGauge.set({ camera }, active ? 1 : 0);
  }
  detectionFailed(camera: string): void {
    this.detectionErrors.inc({ camera });
  }

  setStatusSource(source: CameraStatusSource): void {
    this.statusSource = source;
  }

  /** Creates every per-camera series at zero, so dashboards and rate() see cameras that never failed. */
  registerCamera(camera: string): void {
    this.framesTotal.inc({ camera }, 0);
    this.restartsTotal.inc({ camera }, 0);
    for (const reason of ['busy', 'truncated', 'detector_busy'] satisfies FrameDropReason[]) this.droppedTotal.inc({ camera, reason }, 0);
    this.motionActiveGauge.set({ camera }, 0);
    this.detectionsTotal.inc({ camera }, 0);
    this.coastedTotal.inc({ camera }, 0);
    this.segmentsTotal.inc({ camera }, 0);
    this.recordedBytesTotal.inc({ camera }, 0);
  }

  /** Removes a camera's series (it left the config): a dashboard must not show a removed camera as down. */
  async unregisterCamera(camera: string): Promise<void> {
    const perCamera = [this.framesTotal, this.droppedTotal, this.detectionsTotal, this.detectionInterval, this.coastedTotal, this.restartsTotal, this.errorsTotal, this.connectSeconds, this.motionActiveGauge,
      this.detectionErrors, this.liveViewers, this.liveTranscoderStarts, this.liveChunksSkipped, this.segmentsTotal, this.recordedBytesTotal, this.recordingActive];
    for (const metric of perCamera) {
      for (const { labels } of (await metric.get()).values as Array<{ labels: Record<string, string | number> }>) {
        if (labels.camera !== camera) continue;
        // A histogram lists its buckets as series with `le`; the series itself is keyed without it.
        const { le: _le, ...key } = labels;
        (metric as { remove(labels: Record<string, string | number>): void }).remove(key);
      }
    }
  }

  frame(camera: string): void {
    this.framesTotal.inc({ camera });
  }
  /** The event bus's observer (src/bus/event-bus.ts). */
  readonly bus = {
    subscriptionsRefused: (count: number) => this.busRefused.inc({ what: 'subscription' }, count),
    clientsRefused: (count: number) => this.busRefused.inc({ what: 'client' }, count),
    restarted: (reason: 'memory' | 'exited') => this.busRestarts.inc({ reason }),
  };

  /** The recorder's and the clip maker's observer (src/recording/). */
  readonly recording = {
    segment: (camera: string, bytes: number) => {
      this.segmentsTotal.inc({ camera });
      this.recordedBytesTotal.inc({ camera }, bytes);
    },
    active: (camera: string, active: boolean) => this.recordingActive.set({ camera }, active ? 1 : 0),
    clip: (result: 'written' | 'truncated' | 'no_video' | 'failed', seconds?: number) => {
      this.clipsTotal.inc({ result });
      if (seconds !== undefined) this.clipSeconds.observe(seconds);
    },
  };

  authRefused(reason: 'wrong-credential' | 'locked-out'): void {
    this.authRefusedTotal.inc({ reason });
  }

  dropped(camera: string, reason: FrameDropReason): void {
    this.droppedTotal.inc({ camera, reason });
  }
  restarted(camera: string): void {
    this.restartsTotal.inc({ camera });
  }
  error(camera: string, kind: CameraErrorKind): void {
    this.errorsTotal.inc({ camera, kind });
  }
  connected(camera: string, seconds: number): void {
    this.connectSeconds.observe({ camera }, seconds);
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }
}
