// bin/vigil, the launcher every operator path goes through (npm start, the systemd unit, the Docker image):
// it must preload jemalloc when the box has it (docs/operations.md "Memory"), leave it out when told to, work through the
// symlink npm makes for a bin entry, and exec node, so that the daemon is the process systemd and Docker
// signal. The test setup installs Debian's libjemalloc2 (scripts/install-jemalloc.sh).
import { execFile, spawn } from 'node:child_process';
import { readFileSync, symlinkSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { memoryAllocator } from '../../src/allocator.js';
import { PROJECT_ROOT, VERSION } from '../../src/version.js';
import { writeDaemonConfig } from '../harness/daemon-config.js';
import { LAUNCHER, sample, startDaemonProcess } from '../harness/daemon-process.js';
import { patternClip } from '../harness/media.js';
import { childProcesses, isAlive } from '../harness/proc.js';
import { testDir } from '../harness/test-dir.js';
import { waitFor } from '../harness/wait.js';

const run = promisify(execFile);

function environ(pid: number): Record<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
  return Object.fromEntries(entries.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
}

async function daemonConfig(dir: string): Promise<string> {
  const clip = await patternClip(320, 180, 10, 4);
  return writeDaemonConfig(dir, { cameras: [{ name: 'pattern', url: clip, detect: { width: 320, height: 180, fps: 2 } }], busPort: null });
}

describe('bin/vigil', () => {
  it('runs as npm start\'s own child, so a signal to npm stops the daemon and leaves nothing behind', async () => {
    const dir = testDir('vigil-npm-start-');
    const config = await daemonConfig(dir);
    // `npm start -- --config FILE`, as a background job would run it; npm forwards SIGTERM and SIGINT to its
    // child, which must be the daemon itself, not a shell that dies and orphans it.
    const npm = spawn('npm', ['start', '--silent', '--', '--config', config], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    npm.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    npm.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => npm.on('close', (code) => resolve(code)));
    try {
      await waitFor('the daemon started by npm start to listen', () => out.includes('"api listening"'), 60_000);
      const daemonPid = childProcesses(npm.pid!).find((c) => c.argv.some((a) => a.endsWith('dist/src/cli.js')))?.pid;
      expect(daemonPid, out).toBeDefined();
      npm.kill('SIGTERM');
      await waitFor('the daemon to exit', () => !isAlive(daemonPid!), 15_000);
      expect(out).toContain('"vigil stopped"');
      await exited;
    } finally {
      if (npm.exitCode === null) npm.kill('SIGKILL');
    }
  }, 90_000);

  it('runs the command line through the symlink npm makes for a bin entry', async () => {
    const pkg = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; scripts: Record<string, string> };
    expect(path.join(PROJECT_ROOT, pkg.bin.vigil!)).toBe(LAUNCHER);
    expect(pkg.scripts.start).toBe('exec sh bin/vigil run');
    const dir = testDir('vigil-launcher-');
    const link = path.join(dir, 'vigil');
    symlinkSync(path.relative(dir, LAUNCHER), link);
    const { stdout } = await run(link, ['--version'], { cwd: dir });
    expect(stdout.trim()).toBe(VERSION);
  });

  it('starts the daemon on jemalloc, as node itself, and says so in its start line and vigil_info', async () => {
    const dir = testDir('vigil-launcher-');
    const daemon = await startDaemonProcess(['--config', await daemonConfig(dir)]);
    try {
      const pid = daemon.child.pid!;
      // exec: the launcher's pid is node's, so SIGTERM and SIGHUP from systemd reach vigil.
      expect(readFileSync(`/proc/${pid}/comm`, 'utf8').trim()).toBe('node');
      const maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
      expect(maps).toMatch(/\/libjemalloc\.so\.2$/m);
      expect(memoryAllocator(maps)).toBe('jemalloc');
      const starting = daemon.logRecords().find((r) => r.msg === 'vigil starting')!;
      expect(starting.allocator).toBe('jemalloc');
      expect(daemon.logRecords().filter((r) => String(r.msg).includes('malloc'))).toEqual([]);
      const metrics = await (await fetch(`${daemon.address}/metrics`)).text();
      expect(sample(metrics, 'vigil_info', { version: VERSION, allocator: 'jemalloc' })).toBe(1);
      // One arena per core (bin/vigil's MALLOC_CONF), accepted: jemalloc names a bad option on stderr.
      expect(environ(pid).MALLOC_CONF).toBe(`narenas:${availableParallelism()}`);
      expect(daemon.stderr()).not.toContain('<jemalloc>');
    } finally {
      const stopped = await daemon.stop();
      expect(stopped.code).toBe(0);
    }
  });

  it("lets the operator's MALLOC_CONF add to and override its jemalloc options", async () => {
    const dir = testDir('vigil-launcher-');
    // stats_print makes jemalloc print its settings when the process exits.
    const daemon = await startDaemonProcess(['--config', await daemonConfig(dir)], { MALLOC_CONF: 'narenas:1,stats_print:true' });
    const pid = daemon.child.pid!;
    expect(environ(pid).MALLOC_CONF).toBe(`narenas:${availableParallelism()},narenas:1,stats_print:true`);
    const stopped = await daemon.stop();
    expect(stopped.code).toBe(0);
    expect(daemon.stderr()).toMatch(/opt\.narenas: 1\n/);
  });

  it('keeps the system allocator with VIGIL_ALLOCATOR=system, and the daemon warns about it', async () => {
    const dir = testDir('vigil-launcher-');
    const daemon = await startDaemonProcess(['--config', await daemonConfig(dir)], { VIGIL_ALLOCATOR: 'system' });
    try {
      expect(readFileSync(`/proc/${daemon.child.pid}/maps`, 'utf8')).not.toContain('libjemalloc');
      expect(daemon.logRecords().find((r) => r.msg === 'vigil starting')!.allocator).toBe('system');
      const warning = daemon.logRecords().find((r) => String(r.msg).includes('malloc'));
      expect(warning?.level).toBe('warn');
      expect(warning?.msg).toContain('libjemalloc2');
      const metrics = await (await fetch(`${daemon.address}/metrics`)).text();
      expect(sample(metrics, 'vigil_info', { version: VERSION, allocator: 'system' })).toBe(1);
    } finally {
      await daemon.stop();
    }
  });
});
