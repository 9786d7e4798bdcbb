// Writes a daemon config for tests. The file is JSON, which is YAML too, so values need no quoting rules.
import { writeFileSync } from 'node:fs';
import path from 'node:path';

export interface TestCamera {
  name: string;
  url: string;
  location?: string;
  detect?: { width: number; height: number; fps: number; score_threshold?: number };
  /** Any other camera field (aliases, zones, motion_mask, location_names, enabled). */
  [field: string]: unknown;
}

export interface TestConfigOptions {
  cameras: TestCamera[];
  /** ZeroMQ PUB port on 127.0.0.1; null turns the bus off. */
  busPort: number | null;
  /** Relative to the config file; default ./data. */
  dataDir?: string;
  /** Added to the api section (which listens on any free loopback port): tokens, allowed_hosts, limits. */
  api?: Record<string, unknown>;
  /** The time zone officers speak in; default the system's. */
  timeZone?: string;
  /** The file's name in `dir`; default vigil.yaml. */
  fileName?: string;
  ingest?: Record<string, number>;
  store?: Record<string, number>;
  /** Other top-level sections (detector, plates, log, ...). */
  extra?: Record<string, unknown>;
}

export const DETECT_640x360_5FPS = { width: 640, height: 360, fps: 5 };

/** Writes `dir/vigil.yaml` (api on any free loopback port) and returns its path; cameras default to 640x360 at 5 fps. */
export function writeDaemonConfig(dir: string, options: TestConfigOptions): string {
  const config = {
    data_dir: options.dataDir ?? './data',
    cameras: options.cameras.map((c) => ({ location: c.name, detect: DETECT_640x360_5FPS, ...c })),
    ...(options.timeZone ? { time_zone: options.timeZone } : {}),
    api: { host: '127.0.0.1', port: 0, ...options.api },
    bus: { publish: options.busPort === null ? null : `tcp://127.0.0.1:${options.busPort}` },
    ...(options.ingest ? { ingest: options.ingest } : {}),
    ...(options.store ? { store: options.store } : {}),
    ...options.extra,
  };
  const file = path.join(dir, options.fileName ?? 'vigil.yaml');
  writeFileSync(file, JSON.stringify(config, null, 2) + '\n');
  return file;
}
