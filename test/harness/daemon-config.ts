// Writes a daemon config for tests. The file is JSON, which is YAML too, so values need no quoting rules.
import { writeFileSync } from 'node:fs';
import path from 'node:path';

export interface TestCamera {
  name: string;
  url: string;
  location?: string;
  detect?: { width: number; height: number; fps: number; score_threshold?: number };
}

export interface TestConfigOptions {
  cameras: TestCamera[];
  /** ZeroMQ PUB port on 127.0.0.1; null turns the bus off. */
  busPort: number | null;
  /** Relative to the config file; default ./data. */
  dataDir?: string;
  ingest?: Record<string, number>;
  store?: Record<string, number>;
  /** Other top-level sections (detector, plates, log, ...). */
  extra?: Record<string, unknown>;
}

export const DETECT_640x360_5FPS = { width: 640, height: 360, fps: 5 };

/** Writes `dir/vigil.yaml` (api on any free loopback port) and returns its path. */
export function writeDaemonConfig(dir: string, options: TestConfigOptions): string {
  const config = {
    data_dir: options.dataDir ?? './data',
    cameras: options.cameras.map((c) => ({ location: c.name, detect: DETECT_640x360_5FPS, ...c })),
    api: { host: '127.0.0.1', port: 0 },
    bus: { publish: options.busPort === null ? null : `tcp://127.0.0.1:${options.busPort}` },
    ...(options.ingest ? { ingest: options.ingest } : {}),
    ...(options.store ? { store: options.store } : {}),
    ...options.extra,
  };
  const file = path.join(dir, 'vigil.yaml');
  writeFileSync(file, JSON.stringify(config, null, 2) + '\n');
  return file;
}
