// The `vigil` command as operators run it: config errors, exit codes, /metrics, /healthz and logs.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, sample, startDaemonProcess } from '../harness/daemon-process.js';
import { patternClip } from '../harness/media.js';
import { startRtspServer, type RtspServerProcess } from '../harness/rtsp-process.js';
import { waitFor } from '../harness/wait.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-daemon-'));
let server: RtspServerProcess;

function writeConfig(name: string, yaml: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, yaml);
  return file;
}

beforeAll(async () => {
  const clip = await patternClip(640, 360, 25, 12);
  server = await startRtspServer(
    [{ name: 'cam1', file: clip, fps: 25 }, { name: 'cam2', file: clip, fps: 25 }],
    { auth: 'viewer:Pa55-w0rd' },
  );
});
afterAll(async () => server?.stop());

describe('vigil command line', () => {
  it('exits 2 naming the field and the fix for a bad config', async () => {
    const file = writeConfig('bad.yaml', `
cameras:
  - name: market-east
    url: rtsp://viewer:Pa55-w0rd@127.0.0.1:1/x
    location: market
    detect: { width: 640, height: 360, fsp: 5 }
api: { port: "eighty" }
`);
    const result = await runCli(['run', '--config', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`config ${file} is invalid:`);
    expect(result.stderr).toContain('cameras[0].detect: unknown key "fsp"; did you mean "fps"?');
    expect(result.stderr).toContain('api.port: expected number, got string "eighty"');
    expect(result.stderr).not.toContain('Pa55-w0rd');
  });

  it('exits 2 for a missing config file and for unknown commands or options', async () => {
    const missing = await runCli(['run', '--config', path.join(dir, 'nope.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such file: check the path');
    expect((await runCli(['fly'])).code).toBe(2);
    expect((await runCli(['run', '--frobnicate'])).code).toBe(2);
    const check = await runCli(['config', 'check', '--config', path.join(dir, 'bad.yaml')]);
    expect(check.code).toBe(2);
  });

  it('exits 1 with a clear message when the configured ffmpeg cannot run', async () => {
    const file = writeConfig('noffmpeg.yaml', `
cameras: [{ name: a, url: rtsp://127.0.0.1:1/x, location: yard }]
api: { port: 0 }
ffmpeg: { path: /nonexistent/ffmpeg }
`);
    const result = await runCli(['run', '--config', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('vigil: cannot run ffmpeg at /nonexistent/ffmpeg (ENOENT); set ffmpeg.path');
    expect(JSON.parse(result.stdout.trim().split('\n').pop()!)).toMatchObject({ level: 'fatal' });
  });

  it('serves metrics and health, shows a dead camera as down, and stops cleanly on SIGTERM', async () => {
    const file = writeConfig('good.yaml', `
data_dir: ./data
cameras:
  - { name: gate-north, url: "${server.url('cam1', 'viewer:Pa55-w0rd')}", location: north gate, detect: { width: 320, height: 180, fps: 5 } }
  - { name: gate-south, url: "${server.url('cam2', 'viewer:Pa55-w0rd')}", location: south gate, detect: { width: 320, height: 180, fps: 5 } }
api: { host: 127.0.0.1, port: 0 }
ingest: { stall_timeout_s: 2, startup_timeout_s: 4, backoff_initial_s: 0.2, backoff_max_s: 1 }
bus: { publish: null }
`);
    const daemon = await startDaemonProcess(['--config', file]);
    try {
      const metrics = () => fetch(`${daemon.address}/metrics`).then((r) => r.text());
      const health = () => fetch(`${daemon.address}/healthz`).then((r) => r.json() as Promise<Record<string, any>>);

      await waitFor('both cameras up', async () => (await health()).status === 'ok');
      await waitFor('frames counted', async () => (sample(await metrics(), 'vigil_frames_total', { camera: 'gate-south' }) ?? 0) >= 10);
      const text = await metrics();
      for (const [name, type] of [
        ['vigil_camera_up', 'gauge'],
        ['vigil_frames_total', 'counter'],
        ['vigil_frames_dropped_total', 'counter'],
        ['vigil_camera_restarts_total', 'counter'],
        ['vigil_last_frame_age_seconds', 'gauge'],
        ['vigil_camera_connect_seconds', 'histogram'],
        ['process_cpu_seconds_total', 'counter'],
        ['nodejs_eventloop_lag_seconds', 'gauge'],
      ]) {
        expect(text, name).toContain(`# TYPE ${name} ${type}`);
      }
      expect(sample(text, 'vigil_camera_up', { camera: 'gate-north' })).toBe(1);
      expect(sample(text, 'vigil_last_frame_age_seconds', { camera: 'gate-north' })).toBeLessThan(2);
      expect(sample(text, 'vigil_frames_dropped_total', { camera: 'gate-north', reason: 'busy' })).toBe(0);
      expect(sample(text, 'vigil_camera_restarts_total', { camera: 'gate-north' })).toBe(0);
      const h = await health();
      expect(h.cameras).toHaveLength(2);
      expect(h.cameras[0]).toMatchObject({ name: 'gate-north', location: 'north gate', state: 'up', restarts: 0, last_error: null });
      expect(h.cameras[0].fps).toBeGreaterThan(3);
      expect(h.cameras[0].last_frame_age_s).toBeLessThan(2);

      await server.kill();
      await waitFor('cameras down in metrics', async () => sample(await metrics(), 'vigil_camera_up', { camera: 'gate-north' }) === 0, 8000);
      await waitFor('restarts counted', async () => (sample(await metrics(), 'vigil_camera_restarts_total', { camera: 'gate-south' }) ?? 0) >= 1, 8000);
      const down = await health();
      expect(down.status).toBe('degraded');
      expect(down.cameras[0].state).toBe('down');
      expect(down.cameras[0].last_error.kind).toMatch(/refused|exited/);

      await server.restart();
      await waitFor('cameras back', async () => (await health()).status === 'ok', 20_000);

      const stopped = await daemon.stop();
      expect(stopped).toMatchObject({ code: 0, signal: null });
      expect(stopped.ms).toBeLessThan(10_000);

      const logs = daemon.logRecords();
      expect(daemon.stdout() + daemon.stderr()).not.toContain('Pa55-w0rd');
      const cameraLines = logs.filter((r) => typeof r.msg === 'string' && /^camera /.test(r.msg as string));
      expect(cameraLines.length).toBeGreaterThan(4);
      expect(cameraLines.every((r) => r.camera === 'gate-north' || r.camera === 'gate-south')).toBe(true);
      expect(logs.some((r) => r.msg === 'vigil stopped')).toBe(true);
    } finally {
      await daemon.stop();
    }
  });

  it('runs the demo config with no --config, as `npm start` does', async () => {
    const daemon = await startDaemonProcess([]);
    try {
      expect(daemon.stderr()).toContain('no --config given: running the demo config');
      expect(daemon.address).toBe('http://127.0.0.1:8080');
      const health = await waitFor('demo cameras up', async () => {
        const h = (await fetch(`${daemon.address}/healthz`).then((r) => r.json())) as Record<string, any>;
        return h.status === 'ok' && h.cameras.every((c: { frames: number }) => c.frames >= 5) ? h : undefined;
      });
      expect(health!.cameras.map((c: { name: string }) => c.name)).toEqual(['demo-market', 'demo-school']);
    } finally {
      const stopped = await daemon.stop();
      expect(stopped, daemon.stderr() + daemon.stdout().slice(-2000)).toMatchObject({ code: 0 });
    }
  });
});
