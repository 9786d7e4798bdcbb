// Runs the built `vigil` command as a child process, as an operator or systemd would.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/version.js';
import { waitFor } from './wait.js';

export const CLI = path.join(PROJECT_ROOT, 'dist', 'src', 'cli.js');
/** What operators start (npm start, the systemd unit, the image): preloads jemalloc, then execs node CLI. */
export const LAUNCHER = path.join(PROJECT_ROOT, 'bin', 'vigil');

function requireBuild(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" (npm test does it first)`);
}

export interface CliResult { code: number | null; stdout: string; stderr: string }

/** Runs a vigil command to completion (bounded by timeoutMs). */
export function runCli(args: string[], timeoutMs = 30_000): Promise<CliResult> {
  requireBuild();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: PROJECT_ROOT });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface DaemonProcess {
  child: ChildProcess;
  /** http://127.0.0.1:PORT, read from the daemon's own "api listening" log line. */
  address: string;
  stdout(): string;
  stderr(): string;
  logRecords(): Array<Record<string, unknown>>;
  /** SIGTERM, then SIGKILL after killAfterMs; resolves with the exit code and how long it took. */
  stop(killAfterMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

/**
 * `bin/vigil run ...args` (or `hub ...args` with mode hub); `env` is added to this process's environment; `umask` (e.g. 0) starts it under
 * that umask instead of this process's.
 */
export async function startDaemonProcess(args: string[], env: Record<string, string> = {}, options: { umask?: number; mode?: 'run' | 'hub' } = {}): Promise<DaemonProcess> {
  requireBuild();
  const mode = options.mode ?? 'run';
  const [command, commandArgs] = options.umask === undefined
    ? [LAUNCHER, [mode, ...args]]
    // exec keeps the pid: the daemon is still this child, signals and all.
    : ['/bin/sh', ['-c', `umask ${options.umask.toString(8).padStart(3, '0')} && exec "$0" ${mode} "$@"`, LAUNCHER, ...args]];
  const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'], cwd: PROJECT_ROOT, env: { ...process.env, ...env } });
  let stdout = '', stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  const records = () =>
    stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  const address = (await waitFor(
    'the daemon to listen',
    () => {
      if (child.exitCode !== null) throw new Error(`vigil exited with ${child.exitCode}: ${stderr}${stdout}`);
      return records().find((r) => r.msg === (mode === 'hub' ? 'hub listening' : 'api listening'))?.address as string | undefined;
    },
    30_000,
  ))!;
  return {
    child,
    address,
    stdout: () => stdout,
    stderr: () => stderr,
    logRecords: records,
    async stop(killAfterMs = 15_000) {
      const started = Date.now();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      const result = await exited;
      clearTimeout(timer);
      return { ...result, ms: Date.now() - started };
    },
  };
}

/** Reads one sample from a Prometheus text exposition. */
export function sample(exposition: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    const labelText = /\{(.*)\}/.exec(line)?.[1] ?? '';
    if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) return Number(line.split(' ').pop());
  }
  return undefined;
}
