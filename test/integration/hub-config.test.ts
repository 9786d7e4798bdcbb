// The hub's config on the command line: mistakes exit 2 naming the field and the fix, `vigil hub check` says
// what it read, and SIGHUP adds and removes boxes on a running hub.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BoxInfoJson } from '../../src/contract/types.js';
import { runCli, sample, startDaemonProcess, type DaemonProcess } from '../harness/daemon-process.js';
import { startPostgres, type ThrowawayPostgres } from '../harness/postgres.js';
import { closedPort } from '../harness/rtsp-process.js';
import { STATION_TOKENS, writeBoxConfig, writeHubConfig } from '../harness/station.js';
import { waitFor } from '../harness/wait.js';
import { EventStore, mediaRoots } from '../../src/events/store.js';
import { PgEventStore } from '../../src/hub/pg-store.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-hub-config-'));

describe('vigil hub on the command line', () => {
  it('exits 2 naming each wrong field, without printing the database password or a token', async () => {
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, `
database: { url: "mysql://vigil:S3cr3t-pw@db:3306/vigil" }
boxes:
  - { name: north, url: "10.0.0.11:8080", token: short }
  - { name: north, url: "http://10.0.0.12:8080", token: "a-good-long-token-0123", bus: { endpoint: "tcp://10.0.0.12:5556", server_key: "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7" } }
replication: { poll: 2 }
`);
    const result = await runCli(['hub', '--config', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`config ${file} is invalid:`);
    expect(result.stderr).toContain('database.url: a PostgreSQL URL');
    expect(result.stderr).toContain('boxes[0].url: the box\'s HTTP API, e.g. http://10.0.0.11:8080');
    expect(result.stderr).toContain('boxes[0].token: a token the box accepts');
    expect(result.stderr).toContain('boxes[1].name: duplicate box name "north"');
    expect(result.stderr).toContain('boxes[1].bus.server_key: a CURVE bus needs the hub\'s own key pair too');
    expect(result.stderr).toContain('replication: unknown key "poll"; did you mean "poll_s"?');
    expect(result.stderr + result.stdout).not.toMatch(/S3cr3t-pw|a-good-long-token/);
    expect((await runCli(['hub'])).code).toBe(2);
  });

  it('checks a good config and says what it read', async () => {
    const file = writeHubConfig(path.join(dir, 'good'), { databaseUrl: 'postgres://vigil:pw@127.0.0.1:5432/vigil', boxes: [{ name: 'north', url: 'http://127.0.0.1:8081' }, { name: 'south', url: 'http://127.0.0.1:8082' }] });
    const result = await runCli(['hub', 'check', '--config', file]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('OK: 2 boxes (north, south)');
    expect(result.code).toBe(0);
  });
});

describe('a running hub reloading its config', () => {
  let postgres: ThrowawayPostgres;
  const boxes: DaemonProcess[] = [];
  let hub: DaemonProcess;

  let eastStore = '';
  beforeAll(async () => {
    postgres = await startPostgres();
    // East deleted old events and then pruned their tombstones (past TOMBSTONE_DAYS): a hub that had read only
    // its first change cannot learn what happened to the next ones, and must say so.
    const east = EventStore.open(path.join(dir, 'east', 'data'), { flushMs: 1 });
    for (let i = 0; i < 3; i++) await east.insert({ kind: 'motion', camera: 'east-cam', location: 'east', start: 1000 + i, end: 2000 + i });
    east.enforceRetention(Date.now(), 1e12, mediaRoots(path.join(dir, 'east', 'data')));
    east.pruneTombstones(Date.now() + 1);
    expect(east.horizonSeq()).toBe(6);
    eastStore = east.storeId;
    east.close();
    const hubStore = await PgEventStore.open(postgres.url);
    await hubStore.apply({ box: 'east', storeId: eastStore, changes: [], lastSeq: 1, gaps: [], attachments: [] }, { storeId: null, lastSeq: 0 });
    await hubStore.close();
    for (const name of ['east', 'west']) {
      // Boxes whose camera is down: what matters here is that the hub reaches them.
      const config = writeBoxConfig({ name, dir: path.join(dir, name), busPort: await closedPort(), cameras: [{ name: `${name}-cam`, url: `rtsp://127.0.0.1:${await closedPort()}/x`, location: name }] });
      boxes.push(await startDaemonProcess(['--config', config]));
    }
  }, 90_000);
  afterAll(async () => {
    await hub?.stop();
    await Promise.all(boxes.map((b) => b.stop()));
    await postgres?.remove();
  });

  const info = async () => (await (await fetch(`${hub.address}/api/info`, { headers: { authorization: `Bearer ${STATION_TOKENS.officer}` } })).json()) as BoxInfoJson;

  it('adds and removes boxes on SIGHUP, keeping the running ones, and keeps its config when the new file is wrong', async () => {
    const hubDir = path.join(dir, 'hub');
    const write = (names: string[]) => writeHubConfig(hubDir, { databaseUrl: postgres.url, boxes: names.map((n) => ({ name: n, url: boxes[n === 'east' ? 0 : 1]!.address })) });
    const file = write(['east']);
    hub = await startDaemonProcess(['--config', file], {}, { mode: 'hub' });
    await waitFor('the east camera at the hub', async () => ((await info()).cameras.length === 1 ? true : undefined), 30_000, 200);
    expect((await info()).boxes).toEqual(['east']);
    // Changes 2-6 of east are gone from the box before the hub read them: recorded and counted, never skipped silently.
    await waitFor('the gap to be counted', async () => (sample(await (await fetch(`${hub.address}/metrics`)).text(), 'vigil_hub_gaps_total', { box: 'east' }) === 5 ? true : undefined), 30_000, 200);
    expect(hub.logRecords().some((r) => r.msg === 'box east: 5 changes could no longer be read from the box (recorded as gaps)')).toBe(true);

    write(['east', 'west']);
    hub.child.kill('SIGHUP');
    await waitFor('the west camera at the hub', async () => ((await info()).cameras.length === 2 ? true : undefined), 30_000, 200);
    expect((await info()).cameras.map((c) => [c.name, c.box])).toEqual([['east-cam', 'east'], ['west-cam', 'west']]);
    expect(hub.logRecords().some((r) => r.msg === 'hub config reloaded: 1 boxes added, 0 removed, 0 changed')).toBe(true);

    write(['west']);
    hub.child.kill('SIGHUP');
    await waitFor('east to leave the hub', async () => ((await info()).boxes?.join() === 'west' ? true : undefined), 30_000, 200);
    const metrics = await (await fetch(`${hub.address}/metrics`)).text();
    expect(sample(metrics, 'vigil_hub_box_up', { box: 'east' })).toBeUndefined();
    expect(sample(metrics, 'vigil_hub_box_up', { box: 'west' })).toBe(1);

    writeFileSync(file, 'boxes: []\n');
    hub.child.kill('SIGHUP');
    await waitFor('the refusal in the log', () => (hub.logRecords().some((r) => String(r.msg).startsWith('config reload refused')) ? true : undefined), 10_000, 100);
    expect((await info()).boxes).toEqual(['west']);
  }, 120_000);
});
