// Wires the stages together: cameras → motion → detector → tracker → events → store / bus, with metrics
// and the API beside them.
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { memoryAllocator } from './allocator.js';
import { ApiAuth } from './api/auth.js';
import { allowedHosts } from './api/request-guard.js';
import { buildApi } from './api/server.js';
import { cameraRows } from './api/camera-routes.js';
import { EventBus } from './bus/event-bus.js';
import { LiveView } from './live/live-view.js';
import { Detector } from './detect/detector.js';
import { SnapshotWriter } from './events/snapshots.js';
import { EventStore, mediaRoots, type StoredEvent } from './events/store.js';
import { ClipAssembler, sweepPartials, sweepUnindexedSegments } from './recording/clip-assembler.js';
import { EventClipper } from './recording/event-clipper.js';
import { RecordingExports } from './recording/recording-exports.js';
import { DetectionScheduler } from './pipeline/detection-scheduler.js';
import { PlateService } from './plates/plate-service.js';
import { AuditLog, auditRetention } from './audit/audit-log.js';
import { SearchService } from './search/search-service.js';
import { siteSettings } from './search/search.js';
import type { LoadedConfig } from './config/load.js';
import type { CameraStatus } from './ingest/camera-supervisor.js';
import { apiTokens } from './daemon/api-tokens.js';
import { CameraUnits } from './daemon/camera-units.js';
import { protectDataDir } from './daemon/data-dir.js';
import { keepRestartOnly, planReload, type ReloadSummary } from './daemon/reload-plan.js';
import { Retention } from './daemon/retention.js';
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

export type { ReloadSummary };
export { planReload };

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
    detector = await Detector.create(config.detector, { cameras: config.cameras.filter((c) => c.enabled).length });
    if (config.plates.enabled) plates = await PlateService.start(config.plates.threads);
  } catch (err) {
    await Promise.all([bus?.close(), detector?.close()]);
    store.close();
    throw err;
  }
  // Published after the commit: a subscriber never hears of an event the store could lose.
  store.onCommit((events) => bus?.publish(events));
  const roots = mediaRoots(config.data_dir);
  // Exports are kept only for their download (recording-exports.ts), outside the disk budget: not in `roots`.
  const exportsRoot = path.join(config.data_dir, 'exports');
  // What a crash left half-written: clips and exports being assembled (no row names them), and the tail
  // segments of runs vigil never heard closed.
  const swept = sweepPartials(roots.clips) + sweepPartials(exportsRoot) + sweepUnindexedSegments(roots.recordings, store.segments.paths());
  if (swept > 0) logger.warn({ files: swept }, `removed ${swept} clip and segment files the last run left half-written`);
  let current = config;
  const assembler = new ClipAssembler(ffmpeg.path, store.segments, roots.recordings);
  const clipper = new EventClipper({
    store,
    assembler,
    root: roots.clips,
    record: (camera) => current.cameras.find((c) => c.name === camera && c.enabled)?.record,
    settings: () => current.recording,
    logger,
    observer: metrics.recording,
  });
  const exports = new RecordingExports(assembler, exportsRoot);
  exports.start();
  const interrupted = await store.closeInterrupted();
  if (interrupted > 0) logger.warn({ events: interrupted }, `closed ${interrupted} events the last run left open (it did not stop cleanly)`);
  const { workers, threads, reason } = detector.sizing;
  logger.info({ model: detector.model.id, workers, threads, sizing: reason, pack_regions: config.detector.pack_regions, bus: config.bus.publish }, 'detector ready');
  const scheduler = new DetectionScheduler(detector, workers, {
    dropped: (camera) => metrics.dropped(camera, 'detector_busy'),
    inference: (seconds, inferences) => metrics.inference(seconds, inferences),
    served: (camera, sinceLastS) => metrics.detected(camera, sinceLastS),
  });
  const units = new CameraUnits({ ffmpeg, store, snapshots, scheduler, plates, metrics, logger, recordingsRoot: roots.recordings });
  for (const camera of config.cameras.filter((c) => c.enabled)) units.add(camera, config, false);
  metrics.setPipelineSource({
    queueDepth: () => scheduler.depth,
    utilisation: () => scheduler.utilisation,
    storeBytes: () => store.budgetBytes(),
  });
  const audit = new AuditLog(config.data_dir, auditRetention(config));
  const retention = new Retention({ store, roots, audit, metrics, logger, pinned: (s) => clipper.pinned(s) || exports.pinned(s) }, () => current);
  retention.start();
  clipper.recover();
  const cameras = () => units.statuses();
  metrics.setStatusSource({ cameras: () => units.statusesWithPid() });

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
    clipsRoot: roots.clips,
    // An event that ended has its clip within post_s and a segment: its evidence waits for it.
    clipPending: (event: StoredEvent) => event.end !== null && clipper.clipPending(event.id),
    recordings: { store, clipsRoot: roots.clips, exports, audit, cameras: () => current.cameras.map((c) => c.name) },
    replication: {
      store,
      snapshots,
      audit,
      status: async () => ({
        version: VERSION,
        time_zone: site.timeZone,
        live: true,
        labels: current.detector.classes,
        places: site.places,
        place_names: site.placeNames,
        cameras: await cameraRows({ cameras, store, timeZone: () => site.timeZone, quietAfterMinutes: () => site.quietCameraMinutes }),
      }),
    },
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
  units.startAll();

  return {
    metrics,
    store,
    address,
    cameras,
    async reload(next: LoadedConfig): Promise<ReloadSummary> {
      const summary = planReload(current, next.config, units.names);
      // Removed cameras leave the metrics; changed ones keep their counters and get a new unit.
      await Promise.all([...summary.removed.map((name) => units.stop(name, true)), ...summary.changed.map((name) => units.stop(name))]);
      current = keepRestartOnly(current, next.config);
      for (const name of [...summary.changed, ...summary.added]) units.add(current.cameras.find((c) => c.name === name)!, current);
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
      retention.stop();
      auth.close();
      // Intake stops first (cameras, live viewers); open events are ended and written; then the store is
      // flushed and closed before the bus, so every event published is also on disk.
      await Promise.all([live.stop(), units.stopAll()]);
      // The clips being assembled are finished; the ones still waiting for their window are made at the
      // next start (EventClipper.recover), from the ring.
      await clipper.close();
      exports.stop();
      store.close();
      await Promise.all([bus?.close(), detector?.close(), plates?.close(), api.close()]);
      logger.info('vigil stopped');
    },
  };
}

