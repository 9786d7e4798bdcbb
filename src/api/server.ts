// The HTTP server: /metrics for Prometheus, /healthz for operations, the officers' API under /api and
// their web page at /.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { CameraStatus } from '../ingest/camera-supervisor.js';
import type { VigilMetrics } from '../metrics/metrics.js';
import type { LiveSource } from './live-routes.js';
import type { ApiAuth } from './auth.js';
import { HttpError } from './http-error.js';
import type { SiteSettings } from '../search/search.js';
import { guardedServer, registerRequestGuard, type RequestLimits } from './request-guard.js';
import { registerCameraRoutes } from './camera-routes.js';
import { registerLiveRoutes } from './live-routes.js';
import { registerRecordingRoutes, type RecordingApiDeps } from './recording-routes.js';
import { registerReplicationRoutes, type ReplicationApiDeps } from './replication-routes.js';
import { registerSearchRoutes, type SearchApiDeps } from './search-routes.js';
import { registerWebRoutes } from './web-routes.js';

export interface ApiDeps {
  metrics: Pick<VigilMetrics, 'registry' | 'text'>;
  cameras(): CameraStatus[];
  /** What /healthz answers, where it is not a box's cameras (a hub answers with its boxes). */
  health?: () => object;
  logger: Logger;
  version: string;
  startedAt: number;
  limits: RequestLimits;
  /** Host names the page and /api answer to (null: any); read at every request, a reload may change them. */
  allowedHosts: () => Set<string> | null;
  /** Addresses of TLS proxies whose X-Forwarded-For names the client (rate limits and the audit log). */
  trustedProxies: string[];
  search?: SearchApiDeps & {
    auth: ApiAuth;
    /** Serve the web page at / (needs the built page). */
    web: boolean;
    live?: LiveSource;
    labels: readonly string[];
    /** Read at every request: a reload replaces it. */
    site: () => SiteSettings;
    /** What a station hub reads (scope replicate). */
    replication?: ReplicationApiDeps;
    /** A box's video: clips, recordings and exports. */
    recordings?: RecordingApiDeps;
    /** Registers /api/info and /api/cameras instead of the box's own (a hub gathers them from its boxes). */
    cameraRoutes?: (app: FastifyInstance) => void;
  };
}

export interface RouteEntry {
  method: string;
  url: string;
  access: 'token' | 'public' | 'monitoring';
}

const routeTables = new WeakMap<FastifyInstance, RouteEntry[]>();

/** Every route the router knows, with who may call it: what a security review (and its test) walks. */
export function routeTable(app: FastifyInstance): RouteEntry[] {
  return [...(routeTables.get(app) ?? [])];
}

/** The largest body any route takes: an edited search filter. Sign-in takes far less (auth.ts). */
export const BODY_LIMIT = 64 * 1024;

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    // Requests log at info; at warn only failures reach the log (Prometheus scrapes every few seconds).
    loggerInstance: deps.logger.child({ component: 'api' }, { level: 'warn' }) as FastifyBaseLogger,
    serverFactory: guardedServer(deps.limits),
    bodyLimit: BODY_LIMIT,
    // Stopping must not wait for a client that sends a byte every few seconds.
    forceCloseConnections: true,
    trustProxy: deps.trustedProxies.length ? deps.trustedProxies : false,
  });
  const routes: RouteEntry[] = [];
  routeTables.set(app, routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, access: route.config?.access ?? 'token' });
  });
  registerRequestGuard(app, deps.allowedHosts);
  // One error handler for every route: HttpError and Fastify's own client errors (413, bad JSON) say why;
  // anything else is a bug, logged with its stack and answered as a bare 500.
  app.setErrorHandler((err: Error & { statusCode?: number }, _request, reply) => {
    const status = err instanceof HttpError ? err.statusCode : err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status >= 500) app.log.error({ err }, 'api request failed');
    return reply.code(status).send({ error: status >= 500 ? 'internal error' : err.message });
  });

  const monitoring = { config: { access: 'monitoring' as const } };
  app.get('/metrics', monitoring, async (_request, reply) => {
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.text();
  });

  // 200 while the process works, whatever the cameras do: a supervisor that restarted vigil because one
  // camera is down would take the other cameras down with it. "status" says whether all cameras are up.
  app.get('/healthz', monitoring, async () => {
    if (deps.health) return deps.health();
    const cameras = deps.cameras();
    const up = cameras.filter((c) => c.state === 'up').length;
    return {
      status: up === cameras.length ? 'ok' : 'degraded',
      version: deps.version,
      uptime_s: Math.round((Date.now() - deps.startedAt) / 1000),
      cameras_up: up,
      cameras_total: cameras.length,
      cameras: cameras.map((c) => ({
        name: c.name,
        location: c.location,
        state: c.state,
        fps: c.fps,
        frames: c.frames,
        last_frame_age_s: c.lastFrameAgeS === null ? null : Math.round(c.lastFrameAgeS * 100) / 100,
        restarts: c.restarts,
        last_error: c.lastError,
      })),
    };
  });

  const search = deps.search;
  if (search) {
    const auth = search.auth;
    auth.register(app);
    registerSearchRoutes(app, search, auth);
    if (search.cameraRoutes) search.cameraRoutes(app);
    else registerCameraRoutes(app, {
      cameras: deps.cameras,
      store: search.store,
      timeZone: () => search.site().timeZone,
      live: search.live !== undefined,
      version: deps.version,
      labels: search.labels,
      quietAfterMinutes: () => search.site().quietCameraMinutes,
      placeNames: () => search.site().placeNames,
    });
    if (search.live) await registerLiveRoutes(app, search.live, auth);
    if (search.replication) registerReplicationRoutes(app, search.replication, auth);
    if (search.recordings) registerRecordingRoutes(app, search.recordings, auth);
    if (search.web) registerWebRoutes(app);
  }
  return app;
}
