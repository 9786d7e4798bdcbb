// Config reload on SIGHUP and shutdown on SIGTERM, on the real daemon: cameras added, removed and changed
// while the others keep their ffmpeg and their frames; a bad file refused; settings read only at start
// reported; search places and tokens follow; SIGTERM ends open events, flushes the store and exits 0.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sample, startDaemonProcess, type DaemonProcess } from '../harness/daemon-process.js';
import { testsrcClip } from '../harness/media.js';
import { childProcesses, isAlive } from '../harness/proc.js';
import { startRtspServer, type RtspServerProcess } from '../harness/rtsp-process.js';
import { sleep, waitFor } from '../harness/wait.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-reload-'));
const file = path.join(dir, 'vigil.yaml');
let server: RtspServerProcess;
let daemon: DaemonProcess;

interface Cam { name: string; mount: string; location: string; fps?: number }

function writeConfig(cameras: Cam[], extra = ''): void {
  writeFileSync(file, `data_dir: ./data
time_zone: Asia/Shanghai
cameras:
${cameras.map((c) => `  - { name: ${c.name}, url: "${server.url(c.mount)}", location: ${c.location}, detect: { width: 320, height: 180, fps: ${c.fps ?? 5} } }`).join('\n')}
api: { port: 0, tokens: [{ name: desk-1, token: first-token-0123456789 }] }
bus: { publish: null }
plates: { enabled: false }
${extra}`);
}

const ffmpegOf = (camera: string) =>
  childProcesses(daemon.child.pid!).filter((c) => c.comm === 'ffmpeg' && c.argv.some((a) => a.endsWith(`/${camera.replace('cam-', '')}`)) && !c.argv.includes('mpeg1video'));

async function health(): Promise<{ cameras: Array<{ name: string; state: string; frames: number; last_frame_age_s: number | null }> }> {
  return (await fetch(`${daemon.address}/healthz`)).json() as never;
}
const stateOf = async (name: string) => (await health()).cameras.find((c) => c.name === name);
const reloadLogs = () => daemon.logRecords().filter((r) => String(r.msg).startsWith('config reloaded'));

async function hup(expectLogs: number, what: string): Promise<Record<string, unknown>> {
  daemon.child.kill('SIGHUP');
  await waitFor(`the daemon to log ${what}`, () => daemon.logRecords().filter((r) => /^config reload/.test(String(r.msg))).length >= expectLogs, 20_000);
  return daemon.logRecords().filter((r) => /^config reload/.test(String(r.msg)))[expectLogs - 1]!;
}

beforeAll(async () => {
  const clip = await testsrcClip(640, 360, 25, 10);
  server = await startRtspServer([{ name: 'a', file: clip, fps: 25 }, { name: 'b', file: clip, fps: 25 }, { name: 'c', file: clip, fps: 25 }]);
  writeConfig([{ name: 'cam-a', mount: 'a', location: 'market' }, { name: 'cam-b', mount: 'b', location: 'school' }]);
  daemon = await startDaemonProcess(['--config', file]);
  await waitFor('both cameras up', async () => (await health()).cameras.every((c) => c.state === 'up'), 30_000);
}, 120_000);

afterAll(async () => {
  await daemon?.stop();
  await server?.stop();
});

describe('config reload on SIGHUP', () => {
  it('adds, removes and changes cameras while the untouched one keeps its ffmpeg and its frames', async () => {
    const aPid = ffmpegOf('cam-a')[0]!.pid;
    const bPid = ffmpegOf('cam-b')[0]!.pid;
    expect(ffmpegOf('cam-a')).toHaveLength(1);
    const framesBefore = (await stateOf('cam-a'))!.frames;

    writeConfig([{ name: 'cam-a', mount: 'a', location: 'market' }, { name: 'cam-c', mount: 'c', location: 'harbour' }]);
    const log = await hup(1, 'the first reload');
    expect(log).toMatchObject({ added: ['cam-c'], removed: ['cam-b'], changed: [], unchanged: ['cam-a'], restartRequired: [] });
    await waitFor('cam-c up', async () => (await stateOf('cam-c'))?.state === 'up', 30_000);
    await waitFor("cam-b's ffmpeg to exit", () => !isAlive(bPid), 10_000);
    expect((await health()).cameras.map((c) => c.name).sort()).toEqual(['cam-a', 'cam-c']);
    // cam-a: the same ffmpeg, its frame count never reset, its picture never stale.
    expect(ffmpegOf('cam-a').map((c) => c.pid)).toEqual([aPid]);
    const a = (await stateOf('cam-a'))!;
    expect(a.frames).toBeGreaterThan(framesBefore);
    expect(a.last_frame_age_s!).toBeLessThan(1);
    // A removed camera leaves the metrics: a dashboard must not show it as down for ever.
    const metrics = await (await fetch(`${daemon.address}/metrics`)).text();
    expect(metrics).not.toContain('camera="cam-b"');
    expect(sample(metrics, 'vigil_camera_up', { camera: 'cam-c' })).toBe(1);
    // The new camera's location is a place officers can search for.
    const found = await fetch(`${daemon.address}/api/search?q=harbour`, { headers: { authorization: 'Bearer first-token-0123456789' } });
    expect(((await found.json()) as { filter: { places: unknown[] } }).filter.places).toEqual([{ kind: 'location', name: 'harbour' }]);
  }, 90_000);

  it('rebuilds only the camera whose settings changed, and applies new tokens', async () => {
    const aPid = ffmpegOf('cam-a')[0]!.pid;
    const cPid = ffmpegOf('cam-c')[0]!.pid;
    writeConfig([{ name: 'cam-a', mount: 'a', location: 'market' }, { name: 'cam-c', mount: 'c', location: 'harbour', fps: 2 }]);
    writeFileSync(file, readFileSync(file, 'utf8').replace('[{ name: desk-1, token: first-token-0123456789 }]', '[{ name: desk-2, token: second-token-0123456789 }]'));
    const log = await hup(2, 'the second reload');
    expect(log).toMatchObject({ added: [], removed: [], changed: ['cam-c'], unchanged: ['cam-a'] });
    await waitFor("cam-c's old ffmpeg to exit", () => !isAlive(cPid), 10_000);
    await waitFor('cam-c up again', async () => (await stateOf('cam-c'))?.state === 'up' && ffmpegOf('cam-c').length === 1, 30_000);
    expect(ffmpegOf('cam-c')[0]!.argv.join(' ')).toContain('fps=2,');
    expect(ffmpegOf('cam-a').map((c) => c.pid)).toEqual([aPid]);
    const ask = (token: string) => fetch(`${daemon.address}/api/cameras`, { headers: { authorization: `Bearer ${token}` } });
    expect((await ask('first-token-0123456789')).status).toBe(401);
    expect((await ask('second-token-0123456789')).status).toBe(200);
  }, 90_000);

  it('refuses a bad file and keeps running; reports settings that need a restart', async () => {
    const aPid = ffmpegOf('cam-a')[0]!.pid;
    writeFileSync(file, readFileSync(file, 'utf8') + 'detecter: { threads: 2 }\n');
    const refused = await hup(3, 'the refused reload');
    expect(refused.level).toBe('error');
    expect(String(refused.msg)).toMatch(/config reload refused, still running the previous config: .*detecter.*did you mean "detector"/s);
    expect((await health()).cameras.map((c) => c.state)).toEqual(['up', 'up']);

    writeConfig([{ name: 'cam-a', mount: 'a', location: 'market' }, { name: 'cam-c', mount: 'c', location: 'harbour', fps: 2 }], 'log: { level: debug }\n');
    writeFileSync(file, readFileSync(file, 'utf8').replace('api: { port: 0,', 'api: { port: 18099,').replace('first-token-0123456789', 'second-token-0123456789').replace('desk-1', 'desk-2'));
    const log = await hup(4, 'the reload with a new port');
    expect(log).toMatchObject({ restartRequired: ['api.port', 'log.level'], changed: [], unchanged: ['cam-a', 'cam-c'] });
    expect(daemon.logRecords().some((r) => r.level === 'warn' && String(r.msg).includes('need a restart to take effect: api.port, log.level'))).toBe(true);
    // Still on the old port and the old log level, same ffmpeg for the untouched camera.
    expect((await fetch(`${daemon.address}/healthz`)).status).toBe(200);
    expect(ffmpegOf('cam-a').map((c) => c.pid)).toEqual([aPid]);
    expect(daemon.logRecords().some((r) => r.level === 'debug')).toBe(false);
    expect(reloadLogs()).toHaveLength(3);
  }, 90_000);
});

describe('shutdown on SIGTERM', () => {
  it('stops intake, ends open events, flushes the store and exits 0 within 10 s', async () => {
    // The moving test pattern keeps a motion event open on each camera.
    await waitFor('open motion events', async () => {
      const db = new Database(path.join(dir, 'data', 'events.db'), { readonly: true });
      try {
        return (db.prepare("SELECT COUNT(*) AS n FROM events WHERE kind = 'motion' AND end_ms IS NULL").get() as { n: number }).n > 0;
      } finally {
        db.close();
      }
    }, 30_000);
    const pids = childProcesses(daemon.child.pid!).map((c) => c.pid);
    const stopped = await daemon.stop(15_000);
    expect(stopped).toMatchObject({ code: 0, signal: null });
    expect(stopped.ms).toBeLessThan(10_000);
    for (const pid of pids) expect(isAlive(pid), `child ${pid}`).toBe(false);
    const db = new Database(path.join(dir, 'data', 'events.db'), { readonly: true });
    try {
      expect((db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check).toBe('ok');
      expect((db.prepare('SELECT COUNT(*) AS n FROM events WHERE end_ms IS NULL').get() as { n: number }).n).toBe(0);
      expect((db.prepare("SELECT COUNT(*) AS n FROM events WHERE kind = 'motion'").get() as { n: number }).n).toBeGreaterThan(0);
    } finally {
      db.close();
    }
    expect(daemon.logRecords().at(-1)).toMatchObject({ msg: 'vigil stopped' });
    await sleep(0);
  }, 60_000);
});
