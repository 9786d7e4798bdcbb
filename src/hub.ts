// A station hub (vigil hub --config FILE): every box's events replicated into PostgreSQL, one search, one page
// and one set of metrics over all of them. Boxes stay the source of truth; the hub pulls (hub/box-replicator.ts).
// It decodes no video and runs no model: the page's live view is relayed from the box that has the camera.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ApiAuth } from './api/auth.js';
import { allowedHosts } from './api/request-guard.js';
import { buildApi } from './api/server.js';
import { AuditLog, auditRetention } from './audit/audit-log.js';
import type { BoxInfoJson, CameraRowJson, CamerasJson } from './contract/types.js';
import { apiTokens } from './daemon/api-tokens.js';
import { protectDataDir } from './daemon/data-dir.js';
import { SnapshotWriter } from './events/snapshots.js';
import { AttachmentStore } from './hub/attachment-store.js';
import { BoxClient } from './hub/box-client.js';
import { BoxReplicator, type ReplicationSettings } from './hub/box-replicator.js';
import type { HubBoxConfig, HubConfig, LoadedHubConfig } from './hub/hub-config.js';
import { HubMetrics } from './hub/hub-metrics.js';
import { LiveRelay } from './hub/live-relay.js';
import { PgEventStore } from './hub/pg-store.js';
import { stationSite, type StationSite } from './hub/station-site.js';
import { SearchService } from './search/search-service.js';
import { PALETTE } from './vocabulary/colours.js';
import { VERSION } from './version.js';

export interface Hub {
  readonly address: string;
  readonly metrics: HubMetrics;
  readonly store: PgEventStore;
  /** Re-reads boxes, tokens, time zone and retention; boxes added start, boxes removed stop (their events stay). */
  reload(next: LoadedHubConfig): Promise<{ added: string[]; removed: string[]; changed: string[] }>;
  stop(): Promise<void>;
}

/** How often retention runs at the hub. */
const RETENTION_MS = 10 * 60_000;
/** How often each box's status (cameras, places) is read. */
const STATUS_MS = 5_000;

function replicationSettings(config: HubConfig): ReplicationSettings {
  const r = config.replication;
  return { pollMs: r.poll_s * 1000, batch: r.batch, backoffMaxMs: r.backoff_max_s * 1000, statusMs: STATUS_MS };
}

export async function startHub(loaded: LoadedHubConfig, logger: Logger): Promise<Hub> {
  let current = loaded.config;
  const startedAt = Date.now();
  protectDataDir(current.data_dir);
  logger.info({ config: loaded.file, version: VERSION, boxes: current.boxes.map((b) => b.name) }, 'vigil hub starting');
  const store = await PgEventStore.open(current.database.url, { max: current.database.pool });
  const attachments = new AttachmentStore(current.data_dir);
  const scanned = attachments.scan();
  if (scanned.temporariesRemoved) logger.warn({ files: scanned.temporariesRemoved }, `removed ${scanned.temporariesRemoved} partial attachment files a crash left behind`);
  const metrics = new HubMetrics();
  const audit = new AuditLog(current.data_dir, auditRetention(current));
  const replicators = new Map<string, BoxReplicator>();
  const deps = { store, attachments, metrics, logger, settings: () => replicationSettings(current), curve: current.bus };
  const addBox = (box: HubBoxConfig) => {
    const replicator = new BoxReplicator(box, new BoxClient(box, current.replication.timeout_s * 1000), deps);
    replicators.set(box.name, replicator);
    metrics.addBox(box.name, () => replicator.state());
    replicator.start();
  };
  const removeBox = async (name: string) => {
    const replicator = replicators.get(name);
    replicators.delete(name);
    metrics.removeBox(name);
    await replicator?.stop();
  };
  for (const box of current.boxes) addBox(box);

  // The station's places, merged from the boxes' latest answers at each use: a few hundred places, microseconds.
  let site: StationSite = stationSite([]);
  let clashesLogged = '';
  const refreshSite = () => {
    site = stationSite([...replicators.values()].map((r) => ({ name: r.name, status: r.status.status })));
    const clashes = site.clashes.join(', ');
    if (clashes && clashes !== clashesLogged) logger.warn({ cameras: site.clashes }, `cameras with the same name on more than one box: ${clashes}; search by camera cannot tell them apart, rename them on the boxes`);
    clashesLogged = clashes;
    return site;
  };
  const boxOfCamera = (camera: string) => {
    for (const r of replicators.values()) if (r.status.status?.cameras.some((c) => c.name === camera)) return r.client;
    return undefined;
  };
  const live = new LiveRelay(boxOfCamera, logger);
  const auth = new ApiAuth(apiTokens(current, logger), {
    audit,
    dataDir: current.data_dir,
    failuresPerMinute: () => current.api.auth_failures_per_minute,
  });
  const searchService = new SearchService(store, audit, () => ({ timeZone: current.time_zone, places: refreshSite().places, windowMinutes: current.search.window_minutes }));

  const cameraRows = (): CameraRowJson[] =>
    [...replicators.values()].flatMap((r) => {
      const { status, up, at } = r.status;
      const lag = Math.round(r.lagSeconds() * 10) / 10;
      // The box's rows as last read: while it is unreachable their frame age keeps growing from that moment
      // rather than standing still at what it was (the page shows the camera's state as unknown then).
      const staleS = up || at === null ? 0 : (Date.now() - at) / 1000;
      return (status?.cameras ?? []).map((c) => ({
        ...c,
        ...(staleS > 0 && c.last_frame_age_s !== null ? { last_frame_age_s: Math.round((c.last_frame_age_s + staleS) * 10) / 10 } : {}),
        box: r.name,
        box_up: up,
        box_lag_s: up ? lag : null,
      }));
    });
  const cameraRoutes = (app: FastifyInstance) => {
    app.get('/api/info', async (): Promise<BoxInfoJson> => ({
      version: VERSION,
      time_zone: current.time_zone,
      live: true,
      labels: refreshSite().labels,
      colours: PALETTE,
      cameras: cameraRows().map((c) => ({ name: c.name, location: c.location, box: c.box! })),
      boxes: [...replicators.keys()],
      place_names: site.placeNames,
    }));
    app.get('/api/cameras', async (): Promise<CamerasJson> => ({ now: new Date().toISOString(), time_zone: current.time_zone, live: true, cameras: cameraRows() }));
  };

  let hosts = allowedHosts(current.api.host, current.api.allowed_hosts);
  const api = await buildApi({
    metrics,
    cameras: () => [],
    health: () => {
      const boxes = [...replicators.values()].map((r) => ({ name: r.name, up: r.status.up, lag_s: Math.round(r.lagSeconds() * 10) / 10, last_seq: r.state().lastSeq, error: r.status.error }));
      return { status: boxes.every((b) => b.up) ? 'ok' : 'degraded', version: VERSION, mode: 'hub', uptime_s: Math.round((Date.now() - startedAt) / 1000), boxes_up: boxes.filter((b) => b.up).length, boxes_total: boxes.length, boxes };
    },
    logger,
    version: VERSION,
    startedAt,
    allowedHosts: () => hosts,
    trustedProxies: current.api.trusted_proxies,
    limits: { maxConnections: current.api.max_connections, maxConnectionsPerClient: current.api.max_connections_per_client, requestTimeoutS: current.api.request_timeout_s },
    search: {
      store,
      search: searchService,
      snapshots: new SnapshotWriter(attachments.root),
      audit,
      auth,
      version: VERSION,
      web: true,
      live,
      labels: [],
      timeZone: () => current.time_zone,
      site: () => ({ timeZone: current.time_zone, places: site.places, placeNames: site.placeNames, windowMinutes: current.search.window_minutes, quietCameraMinutes: 10 }),
      cameraRoutes,
    },
  });
  let address: string;
  try {
    address = await api.listen({ host: current.api.host, port: current.api.port });
  } catch (err) {
    await Promise.all([...replicators.keys()].map(removeBox));
    await store.close();
    throw new Error(`cannot listen on ${current.api.host}:${current.api.port} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); change api.host / api.port in the hub config or stop what holds the port`);
  }
  logger.info({ address, boxes: replicators.size }, 'hub listening');

  // Retention: the hub's own window and disk budget; attachments no event names any more go with them.
  let retentionRun: Promise<void> = Promise.resolve();
  const retain = () => {
    retentionRun = retentionRun.then(async () => {
      try {
        const onDisk = attachments.scan().bytes;
        const { deleted, orphanAttachments } = await store.enforceRetention(Date.now() - current.store.retention_days * 86_400_000, current.store.max_disk_gb * 1e9, onDisk);
        for (const sha of orphanAttachments) attachments.remove(sha);
        if (deleted || orphanAttachments.length) logger.info({ deleted, attachments: orphanAttachments.length }, `retention deleted ${deleted} events and ${orphanAttachments.length} attachments at the hub`);
      } catch (err) {
        logger.error({ err: (err as Error).message }, `hub retention failed: ${(err as Error).message}`);
      }
    });
  };
  const retentionTimer = setInterval(retain, RETENTION_MS).unref();
  retain();

  return {
    address,
    metrics,
    store,
    async reload(next) {
      const before = new Map(current.boxes.map((b) => [b.name, JSON.stringify(b)]));
      const after = new Map(next.config.boxes.map((b) => [b.name, JSON.stringify(b)]));
      const added = [...after.keys()].filter((n) => !before.has(n));
      const removed = [...before.keys()].filter((n) => !after.has(n));
      const changed = [...after.keys()].filter((n) => before.has(n) && before.get(n) !== after.get(n));
      const restartOnly = (['database', 'data_dir'] as const).filter((k) => JSON.stringify(current[k]) !== JSON.stringify(next.config[k]));
      current = { ...next.config, database: current.database, data_dir: current.data_dir, bus: current.bus };
      await Promise.all([...removed, ...changed].map(removeBox));
      for (const name of [...changed, ...added]) addBox(current.boxes.find((b) => b.name === name)!);
      auth.replaceTokens(apiTokens(current, logger));
      hosts = allowedHosts(current.api.host, current.api.allowed_hosts);
      audit.setRetention(auditRetention(current));
      logger.info({ added, removed, changed }, `hub config reloaded: ${added.length} boxes added, ${removed.length} removed, ${changed.length} changed`);
      if (restartOnly.length) logger.warn({ fields: restartOnly }, `these settings need a restart to take effect: ${restartOnly.join(', ')}`);
      return { added, removed, changed };
    },
    async stop() {
      clearInterval(retentionTimer);
      auth.close();
      live.stop();
      await Promise.all([...replicators.keys()].map(removeBox));
      await retentionRun;
      await api.close();
      await store.close();
      logger.info('vigil hub stopped');
    },
  };
}
