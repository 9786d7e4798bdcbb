// `npm run demo:station`, as the README tells a person to run it: its own PostgreSQL, two boxes and a hub come
// up on loopback, the hub's page answers with the printed token and sees both boxes, and Ctrl-C stops it all.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import type { CamerasJson } from '../../src/contract/types.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { waitFor } from '../harness/wait.js';

it('starts a station (PostgreSQL, two boxes, a hub), prints the hub and its token, and stops it all on Ctrl-C', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-demo-station-'));
  const base = 20_000 + Math.floor(Math.random() * 20_000);
  const child = spawn('npm', ['run', '--silent', 'demo:station'], { cwd: PROJECT_ROOT, env: { ...process.env, VIGIL_DEMO_DIR: dir, VIGIL_DEMO_PORT: String(base) }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<string>((resolve) => child.on('exit', (code, signal) => resolve(`code ${code}, signal ${signal}`)));
  let hubAddress = '';
  try {
    await waitFor('the demo to say the station runs', () => (out.includes('The station runs') ? true : undefined), 150_000, 200).catch((err: Error) => {
      throw new Error(`${err.message}\n${out}`);
    });
    const hub = /Open (http:\/\/127\.0\.0\.1:\d+) and sign in with the token\s+([0-9a-f]+)/.exec(out);
    expect(hub, out).not.toBeNull();
    const [, address, token] = hub!;
    hubAddress = address!;
    expect(token).toBe((JSON.parse(readFileSync(path.join(dir, 'tokens.json'), 'utf8')) as { officer: string }).officer);
    const cameras = await waitFor(
      'the hub to list both boxes\' cameras',
      async () => {
        const c = (await (await fetch(`${address}/api/cameras`, { headers: { authorization: `Bearer ${token}` } })).json()) as CamerasJson;
        return c.cameras.length === 2 && c.cameras.every((row) => row.box_up) ? c : undefined;
      },
      60_000,
      500,
    );
    expect(cameras!.cameras.map((c) => c.box)).toEqual(['north', 'south']);
    expect((await fetch(`${address}/api/cameras`)).status).toBe(401);
  } finally {
    // Ctrl-C: npm passes it on to the demo, which stops the boxes, the hub and PostgreSQL before it exits.
    child.kill('SIGINT');
  }
  expect(await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running after 40 s'), 40_000))])).toBe('code 0, signal null');
  expect(existsSync(path.join(dir, 'postgres', 'postmaster.pid'))).toBe(false);
  await expect(fetch(`${hubAddress}/healthz`)).rejects.toThrow();
  // Nothing it started is left running (the boxes, the hub, their bus processes are all in its process group).
  let left = true;
  try {
    process.kill(-child.pid!, 0);
  } catch {
    left = false;
  }
  if (left) process.kill(-child.pid!, 'SIGKILL');
  expect(left).toBe(false);
  rmSync(dir, { recursive: true, force: true });
}, 240_000);
