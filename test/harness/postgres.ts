// A throwaway PostgreSQL for tests: its own cluster in a fresh temporary folder, on loopback only, on a free
// port, started and removed by the test itself. Debian's server binaries (/usr/lib/postgresql/<v>/bin, not on
// PATH; scripts/install-postgres.sh installs them). PostgreSQL refuses to run as root, so as root every
// initdb/pg_ctl runs as the `postgres` system user the package creates, in a folder that user owns.
// `-A trust` is for a throwaway cluster on 127.0.0.1 only: a station's hub uses password or peer authentication.
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

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

const STEP_TIMEOUT_MS = 60_000;

/** The newest PostgreSQL's server binaries, or a clear error. */
export function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'initdb'))) : [];
  versions.sort((a, b) => Number.parseFloat(a) - Number.parseFloat(b));
  const v = versions.at(-1);
  if (!v) {
    throw new Error(`PostgreSQL's server binaries are missing (no ${root}/*/bin/initdb): run scripts/install-postgres.sh as root, or apt-get install postgresql postgresql-contrib`);
  }
  return path.join(root, v, 'bin');
}

const isRoot = () => process.getuid?.() === 0;

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Runs a PostgreSQL binary, as the postgres user when we are root; bounded in time. */
function run(bin: string, args: string[], timeoutMs = STEP_TIMEOUT_MS): Promise<string> {
  const [file, argv] = isRoot() ? ['su', ['postgres', '-s', '/bin/sh', '-c', [bin, ...args].map(shellQuote).join(' ')]] : [bin, args];
  return new Promise((resolve, reject) => {
    execFile(file as string, argv as string[], { timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(bin)} ${args.join(' ')} failed: ${err.message}${stderr ? `\n${stderr}` : ''}`));
      else resolve(stdout);
    });
  });
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

function postgresUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('running as root, but there is no `postgres` system user to run PostgreSQL as (apt-get install postgresql creates it)');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

export async function startPostgres(): Promise<ThrowawayPostgres> {
  const bin = postgresBin();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-pg-'));
  const data = path.join(dir, 'pg');
  const log = path.join(data, 'log');
  try {
    chmodSync(dir, 0o755);
    mkdirSync(data, { mode: 0o700 });
    if (isRoot()) {
      const { uid, gid } = postgresUser();
      chownSync(data, uid, gid);
    }
    await run(path.join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const port = await freePort();
  const pgCtl = path.join(bin, 'pg_ctl');
  let running = false;
  const start = async () => {
    try {
      await run(pgCtl, ['-D', data, '-o', `-p ${port} -k ${data} -c listen_addresses=127.0.0.1`, '-l', log, '-w', '-t', '30', 'start']);
    } catch (err) {
      let tail = '';
      try {
        tail = readFileSync(log, 'utf8').split('\n').slice(-10).join('\n');
      } catch {
        // no log yet
      }
      throw new Error(`${(err as Error).message}\nserver log:\n${tail}`);
    }
    running = true;
  };
  const stop = async (mode: 'fast' | 'immediate' = 'fast') => {
    if (!running) return;
    await run(pgCtl, ['-D', data, '-m', mode, '-w', '-t', '30', 'stop']);
    running = false;
  };
  const remove = async () => {
    try {
      await stop('immediate');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  try {
    await start();
    const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 10_000 });
    await admin.connect();
    try {
      await admin.query('CREATE DATABASE vigil');
    } finally {
      await admin.end();
    }
  } catch (err) {
    await remove().catch(() => undefined);
    throw err;
  }
  return { url: `postgres://postgres@127.0.0.1:${port}/vigil`, port, dir, stop, start, remove };
}
