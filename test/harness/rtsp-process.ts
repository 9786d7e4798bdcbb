// Runs the test RTSP server as a child process, so tests can kill it, hang it (SIGSTOP) and restart it
// on the same port, as real cameras do.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/version.js';

export interface MountSpec { name: string; file: string; fps: number }

export interface RtspServerProcess {
  port: number;
  url(mount: string, credentials?: string): string;
  /** SIGKILL, like a camera losing power. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: the connection stays open and nothing more arrives, like a hung camera. */
  pause(): void;
  resume(): void;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRtspServer(mounts: MountSpec[], opts: { port?: number; auth?: string } = {}): Promise<RtspServerProcess> {
  let child: ChildProcess;
  const launch = async (port: number): Promise<number> => {
    const args = ['--import', 'tsx', path.join(PROJECT_ROOT, 'test/harness/rtsp-server-main.ts'), '--port', String(port)];
    for (const m of mounts) args.push('--mount', `${m.name}=${m.file}@${m.fps}`);
    if (opts.auth) args.push('--auth', opts.auth);
    child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: PROJECT_ROOT });
    return new Promise((resolve, reject) => {
      let out = '';
      let err = '';
      const timer = setTimeout(() => reject(new Error(`test RTSP server did not start: ${err}`)), 20_000);
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening (\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`test RTSP server exited (${code}): ${err}`));
      });
    });
  };
  const exited = (c: ChildProcess) =>
    c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once('exit', () => r()));
  const kill = async () => {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited(child);
  };
  const port = await launch(opts.port ?? 0);
  return {
    port,
    url: (mount, credentials) => `rtsp://${credentials ? credentials + '@' : ''}127.0.0.1:${port}/${mount}`,
    kill,
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    async restart() {
      await launch(port);
    },
    stop: kill,
  };
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
