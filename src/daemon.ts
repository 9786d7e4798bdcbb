// Wires the stages together: cameras → motion → detector → tracker → events → store / bus, with metrics
// and the API beside them.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApi } from './api/server.js';
import { EventBus } from './bus/event-bus.js';
import { LiveView } from './live/live-view.js';
import { Detector } from './detect/detector.js';
import { EventRecorder } from './events/event-recorder.js';
import { SnapshotWriter } from './events/snapshots.js';
import { EventStore } from './events/store.js';
import { CameraPipeline } from './pipeline/camera-pipeline.js';
import { DetectionScheduler } from './pipeline/detection-scheduler.js';
import { PlateService } from './plates/plate-service.js';
import { AuditLog } from './search/audit-log.js';
import { placesFromConfig } from './search/search.js';
import type { LoadedConfig } from './config/load.js';
import { CameraSupervisor, type CameraStatus } from './ingest/camera-supervisor.js';
import { probeFfmpeg } from './ingest/ffmpeg.js';
import { VigilMetrics } from './metrics/metrics.js';
import { VERSION } from './version.js';

export interface Daemon {
  readonly metrics: VigilMetrics;
  readonly supervisors: ReadonlyMap<string, CameraSupervisor>;
  readonly store: EventStore;
  /** http://host:port the API listens on. */
  readonly address: string;
  cameras(): CameraStatus[];
  stop(): Promise<void>;
}

/** The API's tokens: configured, none, or one generated into data_dir/api-token on first start. */
function apiTokens(config: LoadedConfig['config'], logger: Logger): Array<{ name: string; token: string }> {
  const setting = config.api.tokens;
  if (setting === 'none') {
    logger.warn('api.tokens is none: /api answers anyone who can reach it');
    return [];
  }
  if (setting !== 'auto') return setting;
  const file = path.join(config.data_dir, 'api-token');
  if (!existsSync(file)) {
    writeFileSync(file, randomBytes(24).toString('hex') + '\n', { mode: 0o600 });
    logger.info({ file }, `generated an API token: ${file} (send it as Authorization: Bearer <token>)`);
  } else {
    logger.info({ file }, `the API token is in ${file}`);
  }
  return [{ name: 'default', token: readFileSync(file, 'utf8').trim() }];
}

export async function startDaemon(loaded: LoadedConfig, logger: Logger): Promise<Daemon> {
  const { config } = loaded;
  const startedAt = Date.now();
  mkdirSync(config.data_dir, { recursive: true });
  const ffmpeg = await probeFfmpeg(config.ffmpeg.path);
  logger.info({ config: loaded.file, version: VERSION, ffmpeg: ffmpeg.path, ffmpeg_version: ffmpeg.version }, 'vigil starting');
  if (!ffmpeg.rtspTimeoutOption) logger.warn('this ffmpeg has no RTSP socket timeout option; relying on the stall watchdog alone');

  const metrics = new VigilMetrics();
  const store = EventStore.open(config.data_dir, { flushMs: config.store.flush_ms });
  const snapshots = new SnapshotWriter(path.join(config.data_dir, 'snapshots'));
  let bus: EventBus | undefined;
  let detector: Detector | undefined;
  let plates: PlateService | undefined;
  try {
    if (config.bus.publish) bus = await EventBus.bind(config.bus.publish, logger);
    detector = await Detector.create(config.detector);
    if (config.plates.enabled) plates = await PlateService.start(config.plates.threads);
  } catch (err) {
    await Promise.all([bus?.close(), detector?.close()]);
    store.close();
    throw err;
  }
  // Published after the commit: a subscriber never hears of an event the store could lose.
  store.onCommit((events) => bus?.publish(events));
  logger.info({ model: detector.model.id, workers: config.detector.workers, threads: config.detector.threads, bus: config.bus.publish }, 'detector ready');
  const scheduler = new DetectionScheduler(detector, config.detector.workers, config.detector.iou_threshold, {
    dropped: (camera) => metrics.dropped(camera, 'detector_busy'),
    inference: (seconds) => metrics.inference(seconds),
  });
  const supervisors = new Map<string, CameraSupervisor>();
  const pipelines: CameraPipeline[] = [];
  const recorders: EventRecorder[] = [];
  for (const camera of config.cameras.filter((c) => c.enabled)) {
    metrics.registerCamera(camera.name);
    const supervisor = new CameraSupervisor(camera, {
      ffmpeg,
      ingest: config.ingest,
      inputArgs: config.ffmpeg.input_args,
      decodeThreads: config.ffmpeg.decode_threads,
      logger,
      observer: metrics,
    });
    const recorder = new EventRecorder(camera, store, snapshots, logger, {
      recorded: (event, seconds) => metrics.recorded(event.kind, event.label, seconds),
    });
    const pipeline = new CameraPipeline(
      camera,
      config.motion,
      config.tracker,
      scheduler,
      recorder,
      {
        motionActive: (name, active) => metrics.motionActive(name, active),
        detectionFailed: (name, err) => {
          metrics.detectionFailed(name);
          logger.warn({ camera: name, err: err.message }, 'detection failed');
        },
      },
      plates ? { service: plates, config: config.plates } : undefined,
    );
    supervisor.setConsumer((frame) => pipeline.onFrame(frame));
    supervisors.set(camera.name, supervisor);
    pipelines.push(pipeline);
    recorders.push(recorder);
  }
  metrics.setPipelineSource({
    queueDepth: () => scheduler.depth,
    utilisation: () => scheduler.utilisation,
    storeBytes: () => store.databaseBytes() + store.snapshotBytes(),
  });
  const retention = () => {
    const deleted = store.enforceRetention(
      Date.now() - config.store.retention_days * 86_400_000,
      config.store.max_disk_gb * 1e9,
      snapshots.root,
    );
    if (deleted > 0) logger.info({ deleted }, 'retention removed old events');
  };
  retention();
  const retentionTimer = setInterval(retention, 60_000);
  retentionTimer.unref();
  const cameras = () => [...supervisors.values()].map((s) => s.status());
  metrics.setStatusSource({ cameras: () => [...supervisors.values()].map((s) => ({ ...s.status(), pid: s.pid })) });

  // Live view transcodes from the camera itself with the configured ffmpeg, only while someone watches.
  const live = new LiveView({ ffmpegPath: ffmpeg.path, cameras: () => config.cameras, logger, metrics });
  const api: FastifyInstance = await buildApi({
    metrics,
    cameras,
    logger,
    version: VERSION,
    startedAt,
    search: {
      store,
      snapshots,
      audit: new AuditLog(config.data_dir),
      places: placesFromConfig(config),
      timeZone: config.time_zone,
      windowMinutes: config.search.window_minutes,
      tokens: apiTokens(config, logger),
      version: VERSION,
      web: true,
      live,
      labels: config.detector.classes,
    },
  });
  let address: string;
  try {
    address = await api.listen({ host: config.api.host, port: config.api.port });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      `cannot listen on ${config.api.host}:${config.api.port} (${code ?? (err as Error).message}); ` +
        'change api.host / api.port in the config or stop what holds the port',
    );
  }
  logger.info({ address, cameras: supervisors.size }, 'api listening');
  for (const supervisor of supervisors.values()) supervisor.start();

  return {
    metrics,
    supervisors,
    store,
    address,
    cameras,
    async stop() {
      clearInterval(retentionTimer);
      await Promise.all([live.stop(), ...[...supervisors.values()].map((s) => s.stop())]);
      for (const p of pipelines) p.close();
      await Promise.all(recorders.map((r) => r.settle()));
      store.close();
      await Promise.all([bus?.close(), detector?.close(), plates?.close(), api.close()]);
      logger.info('vigil stopped');
    },
  };
}
