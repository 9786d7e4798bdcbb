// Wires the stages together: config → camera supervisors → (pipeline stages, later) → metrics and API.
import { mkdirSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApi } from './api/server.js';
import type { LoadedConfig } from './config/load.js';
import { CameraSupervisor, type CameraStatus } from './ingest/camera-supervisor.js';
import { probeFfmpeg } from './ingest/ffmpeg.js';
import { VigilMetrics } from './metrics/metrics.js';
import { VERSION } from './version.js';

export interface Daemon {
  readonly metrics: VigilMetrics;
  readonly supervisors: ReadonlyMap<string, CameraSupervisor>;
  /** http://host:port the API listens on. */
  readonly address: string;
  cameras(): CameraStatus[];
  stop(): Promise<void>;
}

export async function startDaemon(loaded: LoadedConfig, logger: Logger): Promise<Daemon> {
  const { config } = loaded;
  const startedAt = Date.now();
  mkdirSync(config.data_dir, { recursive: true });
  const ffmpeg = await probeFfmpeg(config.ffmpeg.path);
  logger.info({ config: loaded.file, version: VERSION, ffmpeg: ffmpeg.path, ffmpeg_version: ffmpeg.version }, 'vigil starting');
  if (!ffmpeg.rtspTimeoutOption) logger.warn('this ffmpeg has no RTSP socket timeout option; relying on the stall watchdog alone');

  const metrics = new VigilMetrics();
  const supervisors = new Map<string, CameraSupervisor>();
  for (const camera of config.cameras.filter((c) => c.enabled)) {
    metrics.registerCamera(camera.name);
    supervisors.set(
      camera.name,
      new CameraSupervisor(camera, {
        ffmpeg,
        ingest: config.ingest,
        inputArgs: config.ffmpeg.input_args,
        decodeThreads: config.ffmpeg.decode_threads,
        logger,
        observer: metrics,
      }),
    );
  }
  const cameras = () => [...supervisors.values()].map((s) => s.status());
  metrics.setStatusSource({ cameras: () => [...supervisors.values()].map((s) => ({ ...s.status(), pid: s.pid })) });

  const api: FastifyInstance = buildApi({ metrics, cameras, logger, version: VERSION, startedAt });
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
    address,
    cameras,
    async stop() {
      await Promise.all([...supervisors.values()].map((s) => s.stop()));
      await api.close();
      logger.info('vigil stopped');
    },
  };
}
