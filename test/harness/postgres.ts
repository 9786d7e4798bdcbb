// A throwaway PostgreSQL for tests: its own cluster (src/hub/local-postgres.ts) in a fresh temporary folder, on
// loopback only, on a free port, started and removed by the test itself.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { LocalPostgres } from '../../src/hub/local-postgres.js';

export interface ThrowawayPostgres {
  /** postgres://postgres@127.0.0.1:PORT/vigil */
  url: string;
  port: number;
  /** The temporary folder: the cluster's data is in `dir/pg`, its log in `dir/pg/log`. */
  dir: string;
  /** fast: a clean shutdown; immediate: as a crash would (recovery on the next start). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts it again after stop(), on the same port with the same data. */
  start(): Promise<void>;
  /** Stops it (immediate) and deletes the folder. */
  remove(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export async function startPostgres(): Promise<ThrowawayPostgres> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-pg-'));
  let cluster: LocalPostgres;
  try {
    cluster = await LocalPostgres.start(path.join(dir, 'pg'), await freePort());
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: cluster.url(),
    port: cluster.port,
    dir,
    stop: (mode) => cluster.stop(mode),
    start: () => cluster.start(),
    async remove() {
      try {
        await cluster.stop('immediate');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
