// A station on loopback: a throwaway PostgreSQL, two real box daemons watching real street footage from the
// test RTSP server, and a hub replicating both. One search over both boxes; the hub stopped, killed in the middle
// of a backfill, cut off from a box, and its PostgreSQL restarted, and still every event of every box arrives
// once; a snapshot tampered on a box is refused at the hub.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curveKeyPair } from 'zeromq';
import type { CamerasJson, SearchResultJson } from '../../src/contract/types.js';
import { sample, startDaemonProcess, type DaemonProcess } from '../harness/daemon-process.js';
import { startPostgres, type ThrowawayPostgres } from '../harness/postgres.js';
import { closedPort, startRtspServer, type RtspServerProcess } from '../harness/rtsp-process.js';
import { boxEvents, hubCursor, hubEvents, seedBoxStore, STATION_TOKENS, writeBoxConfig, writeHubConfig } from '../harness/station.js';
import { streetClips } from '../harness/street-clips.js';
import { startTcpProxy, type TcpProxy } from '../harness/tcp-proxy.js';
import { sleep, waitFor } from '../harness/wait.js';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-hub-'));
let postgres: ThrowawayPostgres;
let rtsp: RtspServerProcess;
let north: DaemonProcess;
let south: DaemonProcess;
let hub: DaemonProcess | undefined;
let northHttp: TcpProxy;
let northBus: TcpProxy;
let tamperedSha = '';
const SEEDED = 3000;

async function createDatabase(name: string): Promise<string> {
  const client = new pg.Client({ connectionString: postgres.url });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  return postgres.url.replace(/\/vigil$/, `/${name}`);
}

// The south box publishes with CURVE, as a box whose bus leaves the machine must: the hub is a listed client.
const southKeys = curveKeyPair();
const hubKeys = curveKeyPair();

function startHub(databaseUrl: string, name: string, replication: Record<string, number> = {}): Promise<DaemonProcess> {
  const file = writeHubConfig(path.join(dir, name), {
    databaseUrl,
    boxes: [
      { name: 'north', url: `http://127.0.0.1:${northHttp.port}`, bus: `tcp://127.0.0.1:${northBus.port}` },
      { name: 'south', url: south.address, bus: `tcp://127.0.0.1:${southBusPort}`, serverKey: southKeys.publicKey },
    ],
    replication,
    extra: { bus: { public_key: hubKeys.publicKey, secret_key: hubKeys.secretKey } },
  });
  return startDaemonProcess(['--config', file], {}, { mode: 'hub' });
}

let southBusPort = 0;

/** Waits until the hub holds exactly what the box holds (every event, its latest version, nothing twice). */
async function converged(databaseUrl: string, box: string, address: string, timeoutMs = 90_000): Promise<number> {
  let last = '';
  await waitFor(
    `the hub to hold every event of box ${box}`,
    async () => {
      const [atBox, atHub] = await Promise.all([boxEvents(address), hubEvents(databaseUrl, box)]);
      const missing = [...atBox].filter(([id, seq]) => atHub.get(id) !== seq);
      const extra = [...atHub.keys()].filter((id) => !atBox.has(id));
      last = `${atBox.size} at the box, ${atHub.size} at the hub, ${missing.length} missing or stale, ${extra.length} extra`;
      return missing.length === 0 && extra.length === 0 ? atBox.size : undefined;
    },
    timeoutMs,
    500,
  ).catch((err: Error) => {
    const log = hub?.logRecords().slice(-8).map((r) => `  ${String(r.msg)}`).join('\n') ?? '';
    throw new Error(`${err.message}: ${last}; the hub's last log lines:\n${log}`);
  });
  return (await boxEvents(address)).size;
}

const hubGet = (path_: string) => fetch(`${hub!.address}${path_}`, { headers: { authorization: `Bearer ${STATION_TOKENS.officer}` } });

beforeAll(async () => {
  postgres = await startPostgres();
  const { campus, lot } = await streetClips();
  rtsp = await startRtspServer([campus, lot]);
  const northBusPort = await closedPort();
  southBusPort = await closedPort();
  const northDir = path.join(dir, 'north');
  const southDir = path.join(dir, 'south');
  // The south box ran for days before the hub came: thousands of events to backfill, some with snapshots, and
  // one snapshot changed on disk after capture.
  const snapshots = await seedBoxStore(path.join(southDir, 'data'), 'south-lot', 'market', SEEDED);
  const tampered = [...snapshots.values()][3]!;
  tamperedSha = tampered.sha256;
  writeFileSync(tampered.file, Buffer.from('not the picture that was captured'));
  north = await startDaemonProcess(['--config', writeBoxConfig({ name: 'north', dir: northDir, busPort: northBusPort, cameras: [{ name: 'north-campus', url: rtsp.url('campus'), location: 'school gate', aliases: ['学校'] }] })]);
  south = await startDaemonProcess(['--config', writeBoxConfig({
    name: 'south',
    dir: southDir,
    busPort: southBusPort,
    cameras: [{ name: 'south-lot', url: rtsp.url('lot'), location: 'market', aliases: ['集市'] }],
    extra: { bus: { publish: `tcp://127.0.0.1:${southBusPort}`, curve: { public_key: southKeys.publicKey, secret_key: southKeys.secretKey, clients: [hubKeys.publicKey] } } },
  })]);
  northHttp = await startTcpProxy(Number(new URL(north.address).port));
  northBus = await startTcpProxy(northBusPort);
  hub = await startHub(postgres.url, 'hub');
}, 180_000);

afterAll(async () => {
  await hub?.stop();
  await Promise.all([north?.stop(), south?.stop()]);
  await Promise.all([northHttp?.close(), northBus?.close(), rtsp?.stop()]);
  await postgres?.remove();
});

describe('a station hub', () => {
  it('replicates both boxes into PostgreSQL and finds the events of both in one search', async () => {
    await waitFor('the north box to see people', async () => ((await boxEvents(north.address)).size > 2 ? true : undefined), 120_000, 1000);
    const southCount = await converged(postgres.url, 'south', south.address);
    expect(southCount).toBeGreaterThanOrEqual(SEEDED);
    await converged(postgres.url, 'north', north.address);

    const both = (await (await hubGet('/api/events?limit=500')).json()) as { events: Array<{ box_name: string; box_id: number; id: number }> };
    expect(new Set(both.events.map((e) => e.box_name))).toEqual(new Set(['north', 'south']));
    // The officer's words reach every box; places come from the boxes' own configs (aliases included).
    const market = (await (await hubGet(`/api/search?q=${encodeURIComponent('集市 黑色摩托车')}&limit=50`)).json()) as SearchResultJson & { events: Array<{ box_name: string }> };
    expect(market.filter.places.map((p) => p.name)).toEqual(['market']);
    expect(market.events.length).toBeGreaterThan(0);
    expect(market.events.every((e) => e.box_name === 'south' && e.label === 'motorcycle' && e.camera === 'south-lot')).toBe(true);
    const school = (await (await hubGet(`/api/search?q=${encodeURIComponent('学校 person')}`)).json()) as SearchResultJson & { events: Array<{ box_name: string }> };
    expect(school.events.length).toBeGreaterThan(0);
    expect(school.events.every((e) => e.box_name === 'north')).toBe(true);

    const cameras = (await (await hubGet('/api/cameras')).json()) as CamerasJson;
    expect(cameras.cameras.map((c) => [c.name, c.box, c.box_up])).toEqual([['north-campus', 'north', true], ['south-lot', 'south', true]]);
    const metrics = await (await fetch(`${hub!.address}/metrics`)).text();
    for (const box of ['north', 'south']) expect(sample(metrics, 'vigil_hub_box_up', { box })).toBe(1);
    expect(sample(metrics, 'vigil_hub_backfill_events_total', { box: 'south' })).toBeGreaterThanOrEqual(SEEDED);
    expect(sample(metrics, 'vigil_hub_gaps_total', { box: 'south' })).toBe(0);
  }, 240_000);

  it('serves snapshots verified against the capture hash, and refuses one tampered on the box', async () => {
    const listed = (await (await hubGet('/api/events?camera=south-lot&limit=500')).json()) as { events: Array<{ id: number; snapshots: { frame: { sha256: string } | null } }> };
    const withFrame = listed.events.filter((e) => e.snapshots.frame && e.snapshots.frame.sha256 !== tamperedSha);
    expect(withFrame.length).toBeGreaterThan(0);
    const picture = await hubGet(`/api/events/${withFrame[0]!.id}/snapshot.jpg`);
    expect(picture.status).toBe(200);
    expect(picture.headers.get('x-content-sha256')).toBe(withFrame[0]!.snapshots.frame!.sha256);
    const metrics = await (await fetch(`${hub!.address}/metrics`)).text();
    expect(sample(metrics, 'vigil_hub_attachment_errors_total', { box: 'south', reason: 'refused' })).toBe(1);
    expect(hub!.logRecords().some((r) => String(r.msg).includes(`snapshot ${tamperedSha} refused`))).toBe(true);
  });

  it('catches up with a box it was cut off from while the box went on recording', async () => {
    northHttp.cut();
    northBus.cut();
    await waitFor('the hub to see the north box down', async () => sample(await (await fetch(`${hub!.address}/metrics`)).text(), 'vigil_hub_box_up', { box: 'north' }) === 0 || undefined, 30_000, 500);
    const before = (await boxEvents(north.address)).size;
    await waitFor('the north box to record more while cut off', async () => ((await boxEvents(north.address)).size > before ? true : undefined), 90_000, 1000);
    northHttp.restore();
    northBus.restore();
    await converged(postgres.url, 'north', north.address);
    expect(sample(await (await fetch(`${hub!.address}/metrics`)).text(), 'vigil_hub_box_up', { box: 'north' })).toBe(1);
    // Live events come over each box's bus (south's with CURVE), not only by polling /api/changes.
    for (const box of ['north', 'south']) {
      await waitFor(`events of ${box} through its bus`, async () => {
        const m = await (await fetch(`${hub!.address}/metrics`)).text();
        return sample(m, 'vigil_hub_events_total', { box })! > sample(m, 'vigil_hub_backfill_events_total', { box })! || undefined;
      }, 60_000, 500);
    }
  }, 180_000);

  it('neither loses nor doubles an event when killed in the middle of a backfill, stopped, or its PostgreSQL restarts', async () => {
    await hub!.stop();
    // A second hub database: the whole backfill again, in small batches, killed three times part-way.
    const url = await createDatabase('vigil_rounds');
    for (let round = 0; round < 3; round++) {
      hub = await startHub(url, `rounds-${round}`, { batch: 50 });
      const from = await hubCursor(url, 'south');
      await waitFor(`round ${round}: the backfill to move`, async () => ((await hubCursor(url, 'south')) > from + 100 ? true : undefined), 60_000, 50);
      hub.child.kill('SIGKILL');
      await hub.stop();
    }
    // Stopped cleanly while the boxes went on; then PostgreSQL itself crashes and comes back mid-backfill.
    hub = await startHub(url, 'rounds-final', { batch: 50 });
    const from = await hubCursor(url, 'south');
    await waitFor('the backfill to move again', async () => ((await hubCursor(url, 'south')) > from + 100 ? true : undefined), 60_000, 50);
    await postgres.stop('immediate');
    await sleep(2000);
    await postgres.start();
    await converged(url, 'south', south.address, 120_000);
    await converged(url, 'north', north.address, 120_000);
    expect(hub.child.exitCode).toBeNull();
    // PostgreSQL going away is the hub's trouble, not the box's: said so, and the boxes stay up.
    expect(hub.logRecords().some((r) => String(r.msg).startsWith("cannot replicate box south into the hub's store"))).toBe(true);
    expect(hub.logRecords().some((r) => String(r.msg).startsWith('box south unreachable'))).toBe(false);
  }, 420_000);
});
