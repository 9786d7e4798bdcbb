// The officers' page at a station hub, in a real browser (Debian's Chromium) against a real hub: a throwaway
// PostgreSQL, one real box watching real street footage from the test RTSP server (reached through a TCP proxy
// the test can cut), and the hub replicating it. Search at the hub with each card naming its box, the Cameras
// screen with the box's health, the live view relayed through the hub, evidence export from the hub's own
// verified copies, and all of that but the live view still working once the box is cut off.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventJson } from '../../src/contract/types.js';
import { artifact, launchChromium } from '../harness/browser.js';
import { startDaemonProcess, type DaemonProcess } from '../harness/daemon-process.js';
import { startPostgres, type ThrowawayPostgres } from '../harness/postgres.js';
import { closedPort, startRtspServer, type RtspServerProcess } from '../harness/rtsp-process.js';
import { STATION_TOKENS, writeBoxConfig, writeHubConfig } from '../harness/station.js';
import { streetClips } from '../harness/street-clips.js';
import { startTcpProxy, type TcpProxy } from '../harness/tcp-proxy.js';
import { sleep, waitFor } from '../harness/wait.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-hub-web-'));
let postgres: ThrowawayPostgres | undefined;
let rtsp: RtspServerProcess | undefined;
let box: DaemonProcess | undefined;
let boxHttp: TcpProxy | undefined;
let hub: DaemonProcess | undefined;
let browser: Browser | undefined;
let context: BrowserContext;
let page: Page;
/** An ended event of the box, held at the hub with both its pictures fetched and verified. */
let chosen: EventJson;
const pageErrors: string[] = [];

const hubGet = (route: string) => fetch(`${hub!.address}${route}`, { headers: { authorization: `Bearer ${STATION_TOKENS.officer}` } });
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const row = (name: string) => page.locator('.camera-table tbody tr', { has: page.locator(`th:text-is("${name}")`) });

/** Exports `event` from its view at the hub; checks the zip as an investigator would; returns its event.json. */
async function exportEvidence(event: EventJson, name: string): Promise<{ event: EventJson; export: { exported_by: string } }> {
  await page.goto(`${hub!.address}/#/event/${event.id}`);
  await page.locator('#event-title').waitFor();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export evidence (.zip)' }).click()]);
  const zipFile = path.join(dir, `${name}.zip`);
  await download.saveAs(zipFile);
  const out = path.join(dir, name);
  for (const [file, bytes] of Object.entries(unzipSync(readFileSync(zipFile)))) {
    mkdirSync(path.dirname(path.join(out, file)), { recursive: true });
    writeFileSync(path.join(out, file), bytes);
  }
  const folder = path.join(out, readdirSync(out)[0]!);
  expect(readdirSync(folder).sort()).toEqual(['SHA256SUMS', 'crop.jpg', 'event.json', 'frame.jpg']);
  expect(execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: folder, encoding: 'utf8' })).toBe('frame.jpg: OK\ncrop.jpg: OK\nevent.json: OK\n');
  // The pictures are the box's, byte for byte as captured there.
  expect(sha(readFileSync(path.join(folder, 'frame.jpg')))).toBe(event.snapshots.frame!.sha256);
  expect(sha(readFileSync(path.join(folder, 'crop.jpg')))).toBe(event.snapshots.crop!.sha256);
  return JSON.parse(readFileSync(path.join(folder, 'event.json'), 'utf8'));
}

beforeAll(async () => {
  postgres = await startPostgres();
  const { campus } = await streetClips();
  rtsp = await startRtspServer([campus]);
  box = await startDaemonProcess(['--config', writeBoxConfig({
    name: 'north',
    dir: path.join(dir, 'north'),
    busPort: await closedPort(),
    cameras: [{ name: 'north-campus', url: rtsp.url('campus'), location: 'school gate', aliases: ['学校'] }],
  })]);
  boxHttp = await startTcpProxy(Number(new URL(box.address).port));
  // No bus: the hub polls the box's /api/changes every 0.5 s, which is all this test needs.
  const hubConfig = writeHubConfig(path.join(dir, 'hub'), { databaseUrl: postgres.url, boxes: [{ name: 'north', url: `http://127.0.0.1:${boxHttp.port}`, bus: null }] });
  hub = await startDaemonProcess(['--config', hubConfig], {}, { mode: 'hub' });
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'en-GB', acceptDownloads: true });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (e) => pageErrors.push(e.message));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await hub?.stop();
  await box?.stop();
  await Promise.all([boxHttp?.close(), rtsp?.stop()]);
  await postgres?.remove();
  rmSync(dir, { recursive: true, force: true });
});

describe('the officers\' page at a station hub', () => {
  it('signs in at the hub and finds the box\'s events, each card naming its box', async () => {
    // People walk through the campus: wait for an ended event whose frame and close-up the hub holds verified.
    chosen = (await waitFor('an ended event of the box with both pictures at the hub', async () => {
      const { events } = (await (await hubGet('/api/events?camera=north-campus&limit=100')).json()) as { events: EventJson[] };
      for (const e of events.filter((x) => x.end !== null && x.snapshots.frame && x.snapshots.crop)) {
        const [frame, crop] = await Promise.all([hubGet(`/api/events/${e.id}/snapshot.jpg`), hubGet(`/api/events/${e.id}/crop.jpg`)]);
        await Promise.all([frame.arrayBuffer(), crop.arrayBuffer()]);
        if (frame.status === 200 && crop.status === 200) return e;
      }
      return undefined;
    }, 75_000, 1000))!;
    expect(chosen).toMatchObject({ box_name: 'north', camera: 'north-campus' });
    expect(chosen.box_id).toBeGreaterThan(0);

    await page.goto(hub!.address);
    await page.getByLabel('Access token').fill(STATION_TOKENS.officer);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('What did the witness see?').fill('person at school gate');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(() => page.locator('.grid .card').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    const places = await page.locator('.grid .card .card-place').allInnerTexts();
    expect(places.every((p) => p.startsWith('north-campus box north · school gate')), places.join('\n')).toBe(true);
    expect(await page.locator('.grid .card a').first().getAttribute('aria-label')).toContain('north-campus (box north)');
    await expect.poll(() => page.locator('.grid img').first().evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
    // The quick filter's camera list names each camera's box.
    expect(await page.locator('#qf-camera option[value="north-campus"]').innerText()).toBe('north-campus · school gate · box north');
    await page.screenshot({ path: artifact('hub-01-search.png') });
  }, 100_000);

  it('lists the box\'s camera on the Cameras screen with its box, up', async () => {
    await page.getByRole('link', { name: 'Cameras' }).click();
    await page.locator('.camera-table tbody tr').first().waitFor();
    expect(await page.locator('.camera-table thead th').allTextContents()).toContain('Box');
    await expect.poll(() => row('north-campus').locator('.badge').first().innerText(), { timeout: 15_000 }).toBe('Up');
    expect(await row('north-campus').locator('td[data-label="Box"]').innerText()).toBe('north');
    expect(await row('north-campus').locator('td[data-label="Place"]').innerText()).toBe('school gate');
    await page.screenshot({ path: artifact('hub-02-cameras.png') });
  }, 30_000);

  it('plays the camera live through the hub', async () => {
    await page.getByRole('link', { name: 'Watch north-campus live' }).click();
    await page.locator('.live-canvas').waitFor();
    await expect.poll(async () => Number(await page.locator('.live-canvas').getAttribute('data-frames')), { timeout: 20_000 }).toBeGreaterThan(10);
    // Frames keep arriving: the picture changes (people walk).
    const first = await page.locator('.live-canvas').screenshot();
    await sleep(1500);
    const second = await page.locator('.live-canvas').screenshot();
    expect(first.equals(second)).toBe(false);
    await expect.poll(() => page.locator('.live-state').innerText()).toMatch(/^Live/);
    await page.getByRole('link', { name: 'Close live view' }).click();
    await page.locator('.camera-table').waitFor();
  }, 40_000);

  it('exports evidence from the hub\'s event view, naming the box in event.json', async () => {
    await page.goto(`${hub!.address}/#/event/${chosen.id}`);
    await page.locator('#event-title').waitFor();
    expect(await page.locator('.event-sub .box-name').innerText()).toBe('box north');
    expect(await page.locator('.event-facts').innerText()).toContain(`north (its event ${chosen.box_id})`);
    const record = await exportEvidence(chosen, 'while-up');
    expect(record.event).toMatchObject({ id: chosen.id, box_name: 'north', box_id: chosen.box_id, camera: 'north-campus' });
    expect(record.export.exported_by).toBe('officer');
  }, 30_000);

  it('still serves the event\'s pictures and evidence with the box cut off, and says the box is unreachable', async () => {
    boxHttp!.cut();
    await page.goto(`${hub!.address}/#/cameras`);
    await expect.poll(() => row('north-campus').locator('td[data-label="Box"]').innerText(), { timeout: 30_000 }).toBe('north unreachable');
    // What the hub last heard of the camera is not passed off as its state now.
    expect(await row('north-campus').locator('.badge').nth(1).innerText()).toBe('Unknown');
    expect(await row('north-campus').locator('.badge').nth(1).getAttribute('title')).toBe('Last seen: Up');
    expect(await row('north-campus').locator('td[data-label="Last frame"]').innerText()).toBe('—');
    await page.screenshot({ path: artifact('hub-03-cameras-unreachable.png') });
    const frame = await page.request.get(`${hub!.address}/api/events/${chosen.id}/snapshot.jpg`);
    expect(frame.status()).toBe(200);
    expect(sha(await frame.body())).toBe(chosen.snapshots.frame!.sha256);
    const record = await exportEvidence(chosen, 'while-cut');
    expect(record.event).toMatchObject({ id: chosen.id, box_name: 'north' });
    await expect.poll(() => page.locator('.frame img').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
    // In Chinese too.
    await page.goto(`${hub!.address}/#/cameras`);
    await page.getByRole('button', { name: 'Switch to Chinese' }).click();
    await expect.poll(() => row('north-campus').locator('td[data-label="设备"]').innerText()).toBe('north 无法连接');
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
