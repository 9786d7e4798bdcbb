// A PostgreSQL cluster of vigil's own in a folder, on loopback: for `npm run demo:station` and the tests, never
// for a station (docs/station.md sets up Debian's service with passwords). Debian's server binaries
// (/usr/lib/postgresql/<v>/bin, not on PATH). PostgreSQL refuses to run as root, so as root every initdb and
// pg_ctl runs as the `postgres` system user the package creates, in a folder that user owns. `-A trust` is safe
// only because it listens on 127.0.0.1 alone.
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';

const STEP_TIMEOUT_MS = 60_000;

/** The newest PostgreSQL's server binaries, or an error saying what to install. */
export function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'initdb'))) : [];
  versions.sort((a, b) => Number.parseFloat(a) - Number.parseFloat(b));
  const v = versions.at(-1);
  if (!v) {
    throw new Error(`PostgreSQL's server binaries are missing (no ${root}/*/bin/initdb): apt-get install postgresql postgresql-contrib (as root), or run scripts/install-postgres.sh`);
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

function postgresUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('running as root, but there is no `postgres` system user to run PostgreSQL as (apt-get install postgresql creates it)');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

export class LocalPostgres {
  private running = false;

  private constructor(
    /** The cluster's folder; its server log is `log` in it. */
    readonly data: string,
    readonly port: number,
    private readonly bin: string,
  ) {}

  /** postgres://postgres@127.0.0.1:PORT/DATABASE */
  url(database = 'vigil'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /**
   * The cluster in `data` (made with initdb when the folder does not hold one yet), started on 127.0.0.1:port,
   * with the database `vigil` created if missing.
   */
  static async start(data: string, port: number): Promise<LocalPostgres> {
    const bin = postgresBin();
    if (!existsSync(path.join(data, 'PG_VERSION'))) {
      mkdirSync(data, { recursive: true, mode: 0o700 });
      // The postgres user must reach the folder through its parents.
      chmodSync(path.dirname(data), 0o755);
      if (isRoot()) {
        const { uid, gid } = postgresUser();
        chownSync(data, uid, gid);
      }
      await run(path.join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
    }
    const cluster = new LocalPostgres(data, port, bin);
    await cluster.start();
    const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 10_000 });
    await admin.connect();
    try {
      const { rowCount } = await admin.query("SELECT 1 FROM pg_database WHERE datname = 'vigil'");
      if (!rowCount) await admin.query('CREATE DATABASE vigil');
    } finally {
      await admin.end();
    }
    return cluster;
  }

  /** Starts it again after stop(), on the same port with the same data. */
  async start(): Promise<void> {
    const log = path.join(this.data, 'log');
    try {
      await run(path.join(this.bin, 'pg_ctl'), ['-D', this.data, '-o', `-p ${this.port} -k ${this.data} -c listen_addresses=127.0.0.1`, '-l', log, '-w', '-t', '30', 'start']);
    } catch (err) {
      let tail = '';
      try {
        tail = readFileSync(log, 'utf8').split('\n').slice(-10).join('\n');
      } catch {
        // no log yet
      }
      throw new Error(`${(err as Error).message}\nserver log:\n${tail}`);
    }
    this.running = true;
  }

  /** fast: a clean shutdown; immediate: as a crash would (recovery on the next start). */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    if (!this.running) return;
    await run(path.join(this.bin, 'pg_ctl'), ['-D', this.data, '-m', mode, '-w', '-t', '30', 'stop']);
    this.running = false;
  }
}
