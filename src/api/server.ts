// The HTTP server: /metrics for Prometheus and /healthz for operations (later issues add the search API
// and the web page here).
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { CameraStatus } from '../ingest/camera-supervisor.js';
import type { VigilMetrics } from '../metrics/metrics.js';
import { registerSearchRoutes, type SearchApiDeps } from './search-routes.js';

export interface ApiDeps {
  metrics: VigilMetrics;
  cameras(): CameraStatus[];
  logger: Logger;
  version: string;
  startedAt: number;
  search?: SearchApiDeps;
}

export function buildApi(deps: ApiDeps): FastifyInstance {
  const app = Fastify({
    // Requests log at info; at warn only failures reach the log (Prometheus scrapes every few seconds).
    loggerInstance: deps.logger.child({ component: 'api' }, { level: 'warn' }) as FastifyBaseLogger,
  });

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.text();
  });

  // 200 while the process works, whatever the cameras do: a supervisor that restarted vigil because one
  // camera is down would take the other cameras down with it. "status" says whether all cameras are up.
  app.get('/healthz', async () => {
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

  if (deps.search) registerSearchRoutes(app, deps.search);
  return app;
}
