// Camera credentials never leave the daemon: a real `vigil run` with cameras whose URLs carry random secrets
// (userinfo, SRT passphrase, query values of random names) on closed ports, so ffmpeg fails and says so, again
// and again. Then everything the box puts out is searched for the secrets: the whole log, /metrics, /healthz,
// the API, the audit log, the live view's ffmpeg lines, `vigil config check`, and refused config reloads.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { HARMLESS_PARAMS } from '../../src/config/redact.js';
import { runCli, startDaemonProcess, type DaemonProcess } from '../harness/daemon-process.js';
import { closedPort } from '../harness/rtsp-process.js';
import { sleep, waitFor } from '../harness/wait.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-secrets-'));
const data = path.join(dir, 'data');
const file = path.join(dir, 'vigil.yaml');

// Distinctive secrets (S3cr3t + 8 to 12 random letters and digits), some with the raw '@' and ':' a password
// may hold; query parameter names are random too, so no list of known names can be what hides them.
const secret = fc.stringMatching(/^[A-Za-z0-9]{8,12}$/).map((s) => `S3cr3t${s}`);
const name = fc.stringMatching(/^[a-z][a-z0-9_]{2,9}$/).filter((n) => !HARMLESS_PARAMS.has(n));
const [spec] = fc.sample(fc.record({
  srt: fc.record({ passphrase: secret, name, value: secret }),
  rtsp: fc.record({ user: secret, password: secret.map((s) => `${s}@:x`), name, value: secret }),
  rtsps: fc.record({ user: secret, password: secret }),
  http: fc.record({ user: secret, password: secret, name: fc.constantFrom('apikey', 'loginpas', 'access_token', 'passwd'), value: secret }),
  rtmp: fc.record({ user: secret, password: secret, token: secret }),
  tcp: fc.record({ name, value: secret }),
  udp: fc.record({ name, value: secret }),
  typo: secret,
}), { seed: 2024, numRuns: 1 });
const s = spec!;
const SECRETS = [
  s.srt.passphrase, s.srt.value, s.rtsp.user, s.rtsp.password, s.rtsp.value, s.rtsps.user, s.rtsps.password,
  s.http.user, s.http.password, s.http.value, s.rtmp.user, s.rtmp.password, s.rtmp.token, s.tcp.value, s.udp.value, s.typo,
];

let daemon: DaemonProcess;
let token: string;
let ports: number[];

function configText(cameras: string[]): string {
  return `data_dir: ./data
cameras:
${cameras.map((c) => `  - ${c}`).join('\n')}
api: { port: 0 }
bus: { publish: null }
plates: { enabled: false }
ingest: { startup_timeout_s: 2, stall_timeout_s: 2, backoff_initial_s: 0.2, backoff_max_s: 1, stable_after_s: 5 }
log: { level: debug }
`;
}

function cameras(): string[] {
  const [srt, rtsp, rtsps, http, rtmp, tcp, udp] = ports;
  const cam = (n: string, url: string) => `{ name: ${n}, location: yard, detect: { width: 160, height: 90, fps: 2 }, url: ${JSON.stringify(url)} }`;
  return [
    cam('srt-cam', `srt://127.0.0.1:${srt}?passphrase=${s.srt.passphrase}&${s.srt.name}=${s.srt.value}&latency=200`),
    cam('rtsp-cam', `rtsp://${s.rtsp.user}:${s.rtsp.password}@127.0.0.1:${rtsp}/stream?${s.rtsp.name}=${s.rtsp.value}&channel=1`),
    cam('rtsps-cam', `rtsps://${s.rtsps.user}:${s.rtsps.password}@127.0.0.1:${rtsps}/stream`),
    cam('http-cam', `http://${s.http.user}:${s.http.password}@127.0.0.1:${http}/video.cgi?${s.http.name}=${s.http.value}&subtype=0`),
    cam('rtmp-cam', `rtmp://${s.rtmp.user}:${s.rtmp.password}@127.0.0.1:${rtmp}/live?token=${s.rtmp.token}`),
    cam('tcp-cam', `tcp://127.0.0.1:${tcp}?${s.tcp.name}=${s.tcp.value}`),
    cam('udp-cam', `udp://127.0.0.1:${udp}?${s.udp.name}=${s.udp.value}`),
  ];
}

const get = (url: string, auth = true) => fetch(`${daemon.address}${url}`, { headers: auth ? { authorization: `Bearer ${token}` } : {} });
const text = async (url: string, auth = true) => {
  const response = await get(url, auth);
  expect(response.status, url).toBe(200);
  return response.text();
};

/** The secrets (or the S3cr3t prefix every one starts with) found in `output`. */
function leaked(output: string): string[] {
  return [...SECRETS.filter((x) => output.includes(x) || output.includes(x.slice(6))), ...(output.includes('S3cr3t') ? ['S3cr3t'] : [])];
}

beforeAll(async () => {
  ports = await Promise.all(Array.from({ length: 7 }, () => closedPort()));
  writeFileSync(file, configText(cameras()));
  daemon = await startDaemonProcess(['--config', file]);
  token = readFileSync(path.join(data, 'api-token'), 'utf8').trim();
}, 60_000);
afterAll(async () => daemon?.stop());

describe('secrets in camera URLs', () => {
  it('appear in no output of a running daemon whose cameras fail', async () => {
    // Every camera fails at least twice (refused, no SRT in this ffmpeg, or no first frame on udp) and retries.
    await waitFor('every camera to fail and retry', async () => {
      const health = JSON.parse(await text('/healthz', false)) as { cameras: Array<{ last_error: unknown; restarts: number }> };
      return health.cameras.length === 7 && health.cameras.every((c) => c.last_error !== null && c.restarts >= 2);
    }, 30_000, 250);

    // A few API calls, so the audit log exists and has searches, lists and a refused token in it.
    for (const url of ['/api/cameras', '/api/info', `/api/search?q=${encodeURIComponent('car at yard')}`, '/api/events?camera=rtsp-cam']) await text(url);
    expect((await fetch(`${daemon.address}/api/cameras`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);

    // The live view runs its own ffmpeg on the camera URL, and logs its lines.
    const ws = new WebSocket(`${daemon.address.replace('http', 'ws')}/api/live/rtsp-cam`, { headers: { authorization: `Bearer ${token}`, origin: daemon.address } });
    ws.on('error', () => {});
    await Promise.race([new Promise((resolve) => ws.on('close', resolve)), sleep(3000)]);
    ws.close();

    // SIGHUP with a hostile file: a mistyped URL carrying a secret, then an alias bomb. Both are refused,
    // the daemon keeps running the cameras it has.
    writeFileSync(file, configText([...cameras(), `{ name: typo-cam, location: yard, url: "rtsp:/admin:${s.typo}@127.0.0.1:${ports[0]}/x" }`]));
    const badCheck = await runCli(['config', 'check', '--config', file]);
    expect(badCheck.code).toBe(2);
    daemon.child.kill('SIGHUP');
    await waitFor('the mistyped reload to be refused', () => daemon.logRecords().filter((r) => String(r.msg).startsWith('config reload refused')).length >= 1, 10_000);
    writeFileSync(file, `a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n${configText(cameras())}`);
    daemon.child.kill('SIGHUP');
    await waitFor('the alias bomb to be refused', () => daemon.logRecords().filter((r) => String(r.msg).startsWith('config reload refused')).length >= 2, 10_000);
    const refusals = daemon.logRecords().filter((r) => String(r.msg).startsWith('config reload refused')).map((r) => String(r.msg));
    expect(refusals[0]).toContain('rtsp:/***@127.0.0.1');
    expect(refusals[1]).toContain('alias bomb');
    const health = JSON.parse(await text('/healthz', false)) as { cameras: unknown[] };
    expect(health.cameras).toHaveLength(7);
    expect(daemon.child.exitCode).toBeNull();

    const outputs: Record<string, string> = {
      '/metrics': await text('/metrics', false),
      '/healthz': await text('/healthz', false),
      '/api/cameras': await text('/api/cameras'),
      '/api/info': await text('/api/info'),
      'config check (bad file)': badCheck.stdout + badCheck.stderr,
    };
    writeFileSync(file, configText(cameras()));
    const check = await runCli(['config', 'check', '--config', file]);
    expect(check.code, check.stderr).toBe(0);
    outputs['config check'] = check.stdout + check.stderr;
    const audit = readdirSync(data).filter((n) => /^audit.*\.log$/.test(n));
    expect(audit.length).toBeGreaterThan(0);
    outputs['audit log'] = audit.map((n) => readFileSync(path.join(data, n), 'utf8')).join('');
    expect(outputs['audit log']).toContain('car at yard');
    expect(outputs['audit log']).not.toContain(token);

    const stopped = await daemon.stop();
    expect(stopped.code).toBe(0);
    outputs.log = daemon.stdout() + daemon.stderr();

    // The checks looked at real output: the URLs are there, redacted, and so are ffmpeg's failures.
    expect(outputs.log).toContain(`srt://127.0.0.1:${ports[0]}?passphrase=***&${s.srt.name}=***&latency=200`);
    expect(outputs.log).toContain(`rtsp://***@127.0.0.1:${ports[1]}/stream?${s.rtsp.name}=***&channel=1`);
    expect(outputs.log).toMatch(/Connection refused/);
    expect(outputs.log).toMatch(/live view ffmpeg/);
    expect(outputs['config check']).toContain(`http://***@127.0.0.1:${ports[3]}/video.cgi?${s.http.name}=***&subtype=0`);
    for (const [where, output] of Object.entries(outputs)) {
      expect(leaked(output), where).toEqual([]);
      expect(output, where).not.toContain(token);
    }
  }, 60_000);
});
