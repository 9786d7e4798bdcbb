// Wires the stages together: cameras → motion → detector → tracker → events → store / bus, with metrics
// and the API beside them.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { memoryAllocator } from './allocator.js';
import { ApiAuth } from './api/auth.js';
import { allowedHosts } from './api/request-guard.js';
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
import { AuditLog, auditRetention } from './audit/audit-log.js';
import { SearchService } from './search/search-service.js';
import { siteSettings } from './search/search.js';
import type { LoadedConfig } from './config/load.js';
import type { CameraConfig, VigilConfig } from './config/schema.js';
import { CameraSupervisor, type CameraStatus } from './ingest/camera-supervisor.js';
import { probeFfmpeg } from './ingest/ffmpeg.js';
import { VigilMetrics } from './metrics/metrics.js';
import { workerHeaps } from './workers/worker-heap.js';
import { VERSION } from './version.js';

export interface Daemon {
  readonly metrics: VigilMetrics;
  readonly store: EventStore;
  /** http://host:port the API listens on. */
  readonly address: string;
  cameras(): CameraStatus[];
  /**
   * Applies a new config without a restart: cameras added, removed or changed are started, stopped or
   * rebuilt, the others keep running untouched; search places, time zone, tokens and retention follow;
   * settings read only at start are reported.
   */
  reload(next: LoadedConfig): Promise<ReloadSummary>;
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

/**
 * Events, snapshots, the audit log and the token are evidence and secrets: only vigil's own user may read
 * them, whatever umask it was started with (systemd sets 0077, a shell usually 0022). Everything created from
 * here on gets 0600/0700; what an older version left is tightened at the top, where closing the folder is
 * enough to close everything below it.
 */
export function protectDataDir(dataDir: string): void {
  process.umask(0o077);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  for (const entry of readdirSync(dataDir, { withFileTypes: true })) {
    if (entry.isSymbolicLink()) continue;
    chmodSync(path.join(dataDir, entry.name), entry.isDirectory() ? 0o700 : 0o600);
  }
}

export async function startDaemon(loaded: LoadedConfig, logger: Logger): Promise<Daemon> {
  const { config } = loaded;
  const startedAt = Date.now();
  protectDataDir(config.data_dir);
  const ffmpeg = await probeFfmpeg(config.ffmpeg.path);
  const allocator = memoryAllocator();
  logger.info({ config: loaded.file, version: VERSION, ffmpeg: ffmpeg.path, ffmpeg_version: ffmpeg.version, allocator }, 'vigil starting');
  if (allocator === 'system' && process.platform === 'linux') {
    logger.warn(
      "running on the system's malloc, on which vigil's native memory creeps up over hours: install libjemalloc2 " +
        'and start vigil with bin/vigil (npm start, the systemd unit and the Docker image do); see docs/operations.md "Memory"',
    );
  }
  if (!ffmpeg.rtspTimeoutOption) logger.warn('this ffmpeg has no RTSP socket timeout option; relying on the stall watchdog alone');

  const metrics = new VigilMetrics();
  metrics.setInfo({ version: VERSION, allocator });
  metrics.setWorkerHeapSource(() => workerHeaps.current());
  const store = EventStore.open(config.data_dir, { flushMs: config.store.flush_ms });
  const snapshots = new SnapshotWriter(path.join(config.data_dir, 'snapshots'));
  let bus: EventBus | undefined;
  let detector: Detector | undefined;
  let plates: PlateService | undefined;
  try {
    if (config.bus.publish) {
      bus = await EventBus.bind(config.bus.publish, logger, { curve: config.bus.curve, cameras: config.cameras.map((c) => c.name), observer: metrics.bus });
    }
    detector = await Detector.create(config.detector);
    if (config.plates.enabled) plates = await PlateService.start(config.plates.threads);
  } catch (err) {
    await Promise.all([bus?.close(), detector?.close()]);
    store.close();
    throw err;
  }
  // Published after the commit: a subscriber never hears of an event the store could lose.
  store.onCommit((events) => bus?.publish(events));
  const interrupted = await store.closeInterrupted();
  if (interrupted > 0) logger.warn({ events: interrupted }, `closed ${interrupted} events the last run left open (it did not stop cleanly)`);
  logger.info({ model: detector.model.id, workers: config.detector.workers, threads: config.detector.threads, bus: config.bus.publish }, 'detector ready');
  const scheduler = new DetectionScheduler(detector, config.detector.workers, config.detector.iou_threshold, {
    dropped: (camera) => metrics.dropped(camera, 'detector_busy'),
    inference: (seconds) => metrics.inference(seconds),
  });
  // One unit per enabled camera: its ingest, pipeline and recorder, started and stopped together, so a
  // reload can replace one camera without touching the others.
  interface CameraUnit {
    config: CameraConfig;
    supervisor: CameraSupervisor;
    pipeline: CameraPipeline;
    recorder: EventRecorder;
  }
  const units = new Map<string, CameraUnit>();
  let current = config;

  const createUnit = (camera: CameraConfig, settings: VigilConfig): CameraUnit => {
    metrics.registerCamera(camera.name);
    const supervisor = new CameraSupervisor(camera, {
      ffmpeg,
      ingest: settings.ingest,
      inputArgs: settings.ffmpeg.input_args,
      decodeThreads: settings.ffmpeg.decode_threads,
      logger,
      observer: metrics,
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
      },
      plates ? { service: plates, config: settings.plates } : undefined,
    );
    supervisor.setConsumer((frame) => pipeline.onFrame(frame));
    const unit = { config: camera, supervisor, pipeline, recorder };
    units.set(camera.name, unit);
    return unit;
  };

  // Intake first, then the open events are ended and written: nothing the camera saw is lost.
  const stopUnit = async (unit: CameraUnit): Promise<void> => {
    await unit.supervisor.stop();
    unit.pipeline.close();
    scheduler.forget(unit.config.name);
    await unit.recorder.settle();
  };

  for (const camera of config.cameras.filter((c) => c.enabled)) createUnit(camera, config);
  metrics.setPipelineSource({
    queueDepth: () => scheduler.depth,
    utilisation: () => scheduler.utilisation,
    storeBytes: () => store.databaseBytes() + store.snapshotBytes(),
  });
  const audit = new AuditLog(config.data_dir, auditRetention(config));
  const retention = () => {
    // Set beside the retention it describes: the gauge always shows the budget being enforced, also
    // after a reload changed it.
    metrics.setStoreBudget(current.store.max_disk_gb * 1e9);
    const deleted = store.enforceRetention(
      Date.now() - current.store.retention_days * 86_400_000,
      current.store.max_disk_gb * 1e9,
      snapshots.root,
    );
    if (deleted > 0) logger.info({ deleted }, 'retention removed old events');
    const auditFiles = audit.prune();
    if (auditFiles > 0) logger.info({ files: auditFiles }, 'audit retention removed closed audit files');
  };
  retention();
  const retentionTimer = setInterval(retention, 60_000);
  retentionTimer.unref();
  const cameras = () => [...units.values()].map((u) => u.supervisor.status());
  metrics.setStatusSource({ cameras: () => [...units.values()].map((u) => ({ ...u.supervisor.status(), pid: u.supervisor.pid })) });

  // Live view transcodes from the camera itself with the configured ffmpeg, only while someone watches.
  const live = new LiveView({ ffmpegPath: ffmpeg.path, cameras: () => current.cameras, logger, metrics });
  const auth = new ApiAuth(apiTokens(config, logger), {
    audit,
    dataDir: config.data_dir,
    failuresPerMinute: () => current.api.auth_failures_per_minute,
    refused: (reason) => metrics.authRefused(reason),
  });
  // Derived from the config once and replaced whole by a reload: search, the API and the page read it per request.
  let site = siteSettings(config);
  const searchService = new SearchService(store, audit, () => site);
  const search = {
    store,
    search: searchService,
    snapshots,
    audit,
    auth,
    version: VERSION,
    web: true,
    live,
    labels: config.detector.classes,
    timeZone: () => site.timeZone,
    site: () => site,
  };
  let hosts = allowedHosts(config.api.host, config.api.allowed_hosts);
  const api: FastifyInstance = await buildApi({
    metrics,
    cameras,
    logger,
    version: VERSION,
    startedAt,
    search,
    allowedHosts: () => hosts,
    trustedProxies: config.api.trusted_proxies,
    limits: {
      maxConnections: config.api.max_connections,
      maxConnectionsPerClient: config.api.max_connections_per_client,
      requestTimeoutS: config.api.request_timeout_s,
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
  logger.info({ address, cameras: units.size }, 'api listening');
  for (const unit of units.values()) unit.supervisor.start();

  return {
    metrics,
    store,
    address,
    cameras,
    async reload(next: LoadedConfig): Promise<ReloadSummary> {
      const summary = planReload(current, next.config, new Set(units.keys()));
      await Promise.all([...summary.removed, ...summary.changed].map((name) => stopUnit(units.get(name)!)));
      for (const name of summary.removed) {
        units.delete(name);
        await metrics.unregisterCamera(name);
      }
      current = keepRestartOnly(current, next.config);
      for (const name of [...summary.changed, ...summary.added]) {
        createUnit(current.cameras.find((c) => c.name === name)!, current).supervisor.start();
      }
      site = siteSettings(current);
      bus?.setCameras(current.cameras.map((c) => c.name));
      auth.replaceTokens(apiTokens(current, logger));
      hosts = allowedHosts(current.api.host, current.api.allowed_hosts);
      audit.setRetention(auditRetention(current));
      const restart = summary.restartRequired;
      logger.info(
        { config: next.file, ...summary, cameras: units.size },
        `config reloaded: ${summary.added.length} cameras added, ${summary.removed.length} removed, ${summary.changed.length} changed, ${summary.unchanged.length} untouched` +
          (restart.length ? `; ${restart.join(', ')} changed and take effect after a restart` : ''),
      );
      if (restart.length) logger.warn({ fields: restart }, `these settings need a restart to take effect: ${restart.join(', ')}`);
      return summary;
    },
    async stop() {
      clearInterval(retentionTimer);
      auth.close();
      // Intake stops first (cameras, live viewers); open events are ended and written; then the store is
      // flushed and closed before the bus, so every event published is also on disk.
      await Promise.all([live.stop(), ...[...units.values()].map(stopUnit)]);
      store.close();
      await Promise.all([bus?.close(), detector?.close(), plates?.close(), api.close()]);
      logger.info('vigil stopped');
    },
  };
}

export interface ReloadSummary {
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: string[];
  /** Settings that changed but are only read at start (the process keeps the old values). */
  restartRequired: string[];
}

/** Settings read once at start: a reload keeps their old values and says so. */
const RESTART_ONLY = ['data_dir', 'api.host', 'api.port', 'api.trusted_proxies', 'api.max_connections', 'api.max_connections_per_client', 'api.request_timeout_s', 'bus', 'detector', 'ffmpeg.path', 'plates.enabled', 'plates.threads', 'store.flush_ms',
  // pino's child loggers (one per camera, per stage) keep the level they were made with.
  'log.level'] as const;
/** Settings every camera's ingest and pipeline are built with: a change rebuilds every camera. */
const CAMERA_WIDE = ['ingest', 'ffmpeg', 'motion', 'tracker', 'plates'] as const;

function at(config: VigilConfig, key: string): unknown {
  return key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], config);
}

export function planReload(before: VigilConfig, after: VigilConfig, running: ReadonlySet<string>): ReloadSummary {
  const restartRequired = RESTART_ONLY.filter((key) => !isDeepStrictEqual(at(before, key), at(after, key)));
  const kept = keepRestartOnly(before, after);
  const everyCamera = CAMERA_WIDE.some((key) => !isDeepStrictEqual(at(before, key), at(kept, key)));
  const wanted = new Map(kept.cameras.filter((c) => c.enabled).map((c) => [c.name, c]));
  const previous = new Map(before.cameras.map((c) => [c.name, c]));
  const summary: ReloadSummary = { added: [], removed: [], changed: [], unchanged: [], restartRequired };
  for (const name of running) if (!wanted.has(name)) summary.removed.push(name);
  for (const [name, camera] of wanted) {
    if (!running.has(name)) summary.added.push(name);
    else if (everyCamera || !isDeepStrictEqual(previous.get(name), camera)) summary.changed.push(name);
    else summary.unchanged.push(name);
  }
  return summary;
}

/** `after`, with the restart-only settings as they were. */
function keepRestartOnly(before: VigilConfig, after: VigilConfig): VigilConfig {
  const merged = structuredClone(after);
  for (const key of RESTART_ONLY) {
    const parts = key.split('.');
    const parent = parts.slice(0, -1).reduce<Record<string, unknown>>((o, k) => o[k] as Record<string, unknown>, merged as unknown as Record<string, unknown>);
    parent[parts[parts.length - 1]!] = structuredClone(at(before, key));
  }
  return merged;
}
