// What a config reload changes: which cameras are added, removed, rebuilt or left alone, and which settings
// only a restart applies (the running process keeps their old values and says so).
import { isDeepStrictEqual } from 'node:util';
import type { VigilConfig } from '../config/schema.js';

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
const CAMERA_WIDE = ['ingest', 'ffmpeg', 'motion', 'tracker', 'plates', 'recording'] as const;

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
export function keepRestartOnly(before: VigilConfig, after: VigilConfig): VigilConfig {
  const merged = structuredClone(after);
  for (const key of RESTART_ONLY) {
    const parts = key.split('.');
    const parent = parts.slice(0, -1).reduce<Record<string, unknown>>((o, k) => o[k] as Record<string, unknown>, merged as unknown as Record<string, unknown>);
    parent[parts[parts.length - 1]!] = structuredClone(at(before, key));
  }
  return merged;
}
