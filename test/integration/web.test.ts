// The officers' web page in a real browser (Debian's Chromium via playwright-core) against a real daemon
// on a store filled with known events: sign-in, search in English and Chinese, chips, the event view,
// evidence export with its hashes, the cameras list and the live view with its transcoder's life.
// Screenshots of every main screen go to test-artifacts/web/ for people to look at.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStore, type SnapshotRef } from '../../src/events/store.js';
import { artifact, launchChromium } from '../harness/browser.js';
import { writeDaemonConfig } from '../harness/daemon-config.js';
import { startDaemonProcess, type DaemonProcess } from '../harness/daemon-process.js';
import { debianMedia } from '../harness/media-paths.js';
import { childProcesses, isAlive } from '../harness/proc.js';
import { testsrcClip } from '../harness/media.js';
import { closedPort, startRtspServer, type RtspServerProcess } from '../harness/rtsp-process.js';
import { sleep, waitFor } from '../harness/wait.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-web-'));
const data = path.join(dir, 'data');
const TZ = 'Asia/Shanghai';
let daemon: DaemonProcess;
let rtsp: RtspServerProcess;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let token: string;
const ids = { redMoto: 0, blueMoto: 0, schoolMoto: 0, person: 0, plate: 0, ongoing: 0, motion: 0 };
/** Every event put in the store, by camera and start: what "events today" must count. */
const inserted: Array<{ camera: string; start: number }> = [];
const hashes: Record<string, SnapshotRef> = {};

/** A real photo as the event's 640x360 frame and its close-up, written where the daemon finds snapshots. */
async function snapshot(name: string, photo: string, box: [number, number, number, number]): Promise<{ frame: SnapshotRef; crop: SnapshotRef }> {
  const folder = path.join(data, 'snapshots', 'web');
  mkdirSync(folder, { recursive: true });
  const frame = await sharp(debianMedia(photo)).resize(640, 360, { fit: 'cover' }).jpeg({ quality: 85 }).toBuffer();
  const [x1, y1, x2, y2] = box;
  const crop = await sharp(frame).extract({ left: x1, top: y1, width: x2 - x1, height: y2 - y1 }).jpeg({ quality: 90 }).toBuffer();
  const ref = (file: string, bytes: Buffer): SnapshotRef => {
    writeFileSync(path.join(folder, file), bytes);
    return { path: `web/${file}`, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
  };
  return { frame: ref(`${name}-frame.jpg`, frame), crop: ref(`${name}-crop.jpg`, crop) };
}

beforeAll(async () => {
  // The day whose 14:00 is the latest past one: "下午两点" means that day's afternoon (a witness's time is
  // in the past), whatever hour the test runs at. Every event is before 14:00 on it, so none is in the future
  // (one at 14:20 was, between 14:00 and 14:20, and kept the camera from ever being quiet).
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(new Date(Date.now() - 14 * 3600_000));
  const at = (hhmm: string) => Date.parse(`${today}T${hhmm}:00+08:00`);
  const store = EventStore.open(data, { flushMs: 1 });
  const moto = await snapshot('moto', 'motorcycle_left.png', [150, 60, 500, 330]);
  const person = await snapshot('person', 'astronaut.png', [200, 20, 460, 360]);
  const car = await snapshot('car', 'messi5.jpg', [100, 100, 400, 300]);
  Object.assign(hashes, { motoFrame: moto.frame, motoCrop: moto.crop });
  const path1: Array<[number, number, number]> = [[at('13:55'), 90, 300], [at('13:55') + 2000, 200, 260], [at('13:55') + 4000, 320, 230], [at('13:55') + 6000, 430, 215]];
  ids.redMoto = (await store.insert({ kind: 'object', camera: 'market-east', location: 'market', label: 'motorcycle', score: 0.91, start: at('13:55'), end: at('13:56'),
    box: [150, 60, 500, 330], path: path1, zones: ['north gate'], attributes: { colour: { colour: 'red', confidence: 0.82 } }, frame: moto.frame, crop: moto.crop, frameSize: [640, 360] })).id;
  ids.blueMoto = (await store.insert({ kind: 'object', camera: 'market-east', location: 'market', label: 'motorcycle', score: 0.77, start: at('13:40'), end: at('13:41'),
    box: [150, 60, 500, 330], attributes: { colour: { colour: 'blue', confidence: 0.7 } }, frame: moto.frame, crop: moto.crop, frameSize: [640, 360] })).id;
  ids.schoolMoto = (await store.insert({ kind: 'object', camera: 'school-gate', location: 'school gate', label: 'motorcycle', score: 0.8, start: at('13:58'), end: at('13:59'),
    box: [150, 60, 500, 330], attributes: { colour: { colour: 'red', confidence: 0.75 } }, frame: moto.frame, crop: moto.crop, frameSize: [640, 360] })).id;
  ids.person = (await store.insert({ kind: 'object', camera: 'school-gate', location: 'school gate', label: 'person', score: 0.88, start: at('09:10'), end: at('09:11'),
    box: [200, 20, 460, 360], attributes: { upper_colour: { colour: 'white', confidence: 0.8 }, lower_colour: { colour: 'black', confidence: 0.6 } }, frame: person.frame, crop: person.crop, frameSize: [640, 360] })).id;
  const chars = [...'贵F12345'].map((char, i) => ({ char, confidence: i === 6 ? 0.55 : 0.95, alternatives: i === 6 ? [{ char: 'S', confidence: 0.4 }] : [] }));
  ids.plate = (await store.insert({ kind: 'plate', camera: 'market-east', location: 'market', label: 'car', score: 0.89, start: at('13:45'), end: at('13:45'), box: [100, 100, 400, 300],
    attributes: { plate: { text: '贵F12345', confidence: 0.89, chars, colour: 'blue', reads: 4 }, vehicle_colour: { colour: 'white', confidence: 0.7 } }, frame: car.frame, crop: car.crop, frameSize: [640, 360] })).id;
  ids.motion = (await store.insert({ kind: 'motion', camera: 'market-east', location: 'market', start: Date.now() - 60_000, end: Date.now() - 50_000, frame: car.frame, frameSize: [640, 360] })).id;
  const everything = { kinds: [], labels: [], colours: [], places: [], time: null, plate: null, unknown: [] };
  for (const e of store.searchEvents(everything, { limit: 1000 }).events) inserted.push({ camera: e.camera, start: e.start });
  store.close();

  const clip = await testsrcClip(640, 360, 25, 10);
  rtsp = await startRtspServer([{ name: 'market', file: clip, fps: 25 }]);
  // The live camera's whole picture is masked for motion: the daemon ingests it but adds no events, so the
  // store holds exactly the events above.
  const file = writeDaemonConfig(dir, {
    timeZone: TZ,
    busPort: null,
    cameras: [
      { name: 'market-east', url: rtsp.url('market'), location: 'market', aliases: ['集市'], location_names: { zh: '集市' },
        zones: [{ name: 'north gate', names: { zh: '北门' }, polygon: [[0, 0], [1, 0], [1, 1]] }],
        motion_mask: [[[0, 0], [1, 0], [1, 1], [0, 1]]], detect: { width: 320, height: 180, fps: 2 } },
      { name: 'school-gate', url: `rtsp://127.0.0.1:${await closedPort()}/x`, location: 'school gate', aliases: ['学校', '校门'] },
    ],
    // market-east streams a masked picture: after 6 s up without an object it counts as quiet.
    extra: { plates: { enabled: false }, search: { quiet_camera_minutes: 0.1 } },
  });
  daemon = await startDaemonProcess(['--config', file]);
  token = readFileSync(path.join(data, 'api-token'), 'utf8').trim();
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'en-GB', acceptDownloads: true });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await daemon?.stop();
  await rtsp?.stop();
});

const cardIds = async (p: Page = page) =>
  (await p.locator('.grid .card a').evaluateAll((links) => links.map((a) => Number(a.getAttribute('href')!.split('/').pop())))).sort((a, b) => a - b);
const chips = (p: Page = page) => p.locator('.chip').allInnerTexts();
const auditLines = () => readFileSync(path.join(data, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

describe('the web page', () => {
  it('asks for the token, refuses a wrong one, and signs in with the right one', async () => {
    await page.goto(daemon.address);
    await page.getByLabel('Access token').waitFor();
    await page.screenshot({ path: artifact('01-sign-in.png') });
    await page.getByLabel('Access token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('#sign-in-error').innerText()).toContain('not valid');
    await page.getByLabel('Access token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('What did the witness see?').waitFor();
    // The session is a cookie the page cannot read (HttpOnly), and the API answers through it.
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'vigil_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(await page.evaluate('document.cookie')).toBe('');
    expect(auditLines().some((a) => a.action === 'sign-in' && a.who === 'default')).toBe(true);
    expect(auditLines().some((a) => a.action === 'sign-in refused')).toBe(true);
  }, 60_000);

  it('searches in English, shows what it understood as chips, and ranks the right events', async () => {
    await page.getByLabel('What did the witness see?').fill('red motorbike at market 14:00');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(() => cardIds()).toEqual([ids.redMoto]);
    const shown = await chips();
    expect(shown.join(' | ')).toMatch(/Object\s*motorcycle/i);
    expect(shown.join(' | ')).toMatch(/Colour\s*red/i);
    expect(shown.join(' | ')).toMatch(/Place\s*market/i);
    expect(shown.join(' | ')).toMatch(/Time\s+[^|]*around 14:00/i);
    expect(await page.locator('.summary').innerText()).toContain('closest to 14:00');
    // The card carries what an officer scans for: time, camera and place, label, colour.
    const card = await page.locator('.grid .card').first().innerText();
    expect(card).toContain('13:55:00');
    expect(card).toContain('market-east · market · north gate');
    expect(card).toMatch(/motorcycle/i);
    expect(card).toMatch(/red/);
    await expect.poll(() => page.locator('.grid img').first().evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
    await page.screenshot({ path: artifact('02-search-en.png') });
  }, 30_000);

  it('removes a chip by keyboard and searches again without it', async () => {
    const remove = page.getByRole('button', { name: 'Remove filter: Colour red' });
    await remove.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => cardIds()).toEqual([ids.redMoto, ids.blueMoto].sort((a, b) => a - b));
    expect((await chips()).join(' | ')).not.toMatch(/Colour/i);
    expect(decodeURIComponent(new URL(page.url()).hash)).toContain('"colours":[]');
    // The edited search survives a reload: the link is the search.
    await page.reload();
    await expect.poll(() => cardIds()).toEqual([ids.redMoto, ids.blueMoto].sort((a, b) => a - b));
    // A quick filter narrows the same way: the camera list.
    await page.getByLabel('Camera', { exact: true }).selectOption('school-gate');
    await expect.poll(() => cardIds()).toEqual([ids.schoolMoto]);
    expect((await chips()).join(' | ')).toMatch(/Camera\s*school-gate/i);
    expect((await chips()).join(' | ')).not.toMatch(/Place/i);
    await page.getByLabel('Object', { exact: true }).selectOption('person');
    // The list is empty while the search loads too: wait for the answer, then check it shows no card.
    await expect.poll(() => page.locator('.summary').innerText()).toContain('No events match');
    expect(await cardIds()).toEqual([]);
    await page.getByRole('button', { name: 'Remove filter: Time' }).click();
    await expect.poll(() => cardIds()).toEqual([ids.person]);
    // A standing person's close-up is a tall picture: the card shows all of it, not its middle.
    const fits = () => page.locator('.grid .card .thumb img').first().evaluate((img) => {
      const frame = (img as unknown as { parentElement: typeof img }).parentElement.getBoundingClientRect();
      const box = img.getBoundingClientRect();
      return box.height <= frame.height + 0.5 && box.top >= frame.top - 0.5 && (img as unknown as { naturalHeight: number }).naturalHeight > (img as unknown as { naturalWidth: number }).naturalWidth;
    });
    await expect.poll(fits).toBe(true);
  }, 30_000);

  it('switches to Chinese and searches in Chinese', async () => {
    await page.getByRole('button', { name: 'Switch to Chinese' }).click();
    await page.getByLabel('目击者看到了什么？').waitFor();
    expect(await page.evaluate('document.documentElement.lang')).toBe('zh-CN');
    await page.getByLabel('目击者看到了什么？').fill('集市 红色摩托车 下午两点');
    await page.getByRole('button', { name: '检索', exact: true }).click();
    await expect.poll(() => cardIds()).toEqual([ids.redMoto]);
    expect((await chips()).join(' | ')).toMatch(/颜色\s*红色/);
    expect((await chips()).join(' | ')).toMatch(/目标\s*摩托车/);
    await page.screenshot({ path: artifact('03-search-zh.png') });
    // A word it does not know is shown, not dropped.
    await page.getByLabel('目击者看到了什么？').fill('红色 摩托车 飞碟');
    await page.getByRole('button', { name: '检索', exact: true }).click();
    await expect.poll(async () => (await chips()).join(' | ')).toMatch(/未识别\s*飞碟/);
    await page.getByRole('button', { name: '切换到英文' }).click();
    await page.getByLabel('What did the witness see?').waitFor();
  }, 30_000);

  it('opens an event: frame with the path, close-up, facts and capture hashes', async () => {
    await page.goto(`${daemon.address}/#/search?q=${encodeURIComponent('red motorbike at market 14:00')}`);
    await expect.poll(() => cardIds()).toEqual([ids.redMoto]);
    await page.locator('.grid .card a').first().click();
    await page.locator('#event-title').waitFor();
    expect(await page.locator('#event-title').innerText()).toBe('motorcycle · red');
    for (const sel of ['.frame img', '.crop img']) {
      await expect.poll(() => page.locator(sel).evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth), { message: sel }).toBeGreaterThan(0);
    }
    expect(await page.locator('.frame img').getAttribute('alt')).toContain('market-east');
    // The path is drawn over the frame, in the frame's own pixel coordinates.
    expect(await page.locator('.path-overlay').getAttribute('viewBox')).toBe('0 0 640 360');
    expect(await page.locator('.path-overlay polyline').first().getAttribute('points')).toBe('90,300 200,260 320,230 430,215');
    const facts = await page.locator('.event-facts').innerText();
    expect(facts).toContain('north gate');
    expect(facts).toContain('91%');
    expect(facts).toContain('1 min 0 s');
    expect(facts).toContain(hashes.motoFrame!.sha256);
    expect(facts).toContain(hashes.motoCrop!.sha256);
    await page.screenshot({ path: artifact('04-event.png'), fullPage: true });
    // The path can be hidden to see what it covers.
    await page.getByLabel('Show path').uncheck();
    expect(await page.locator('.path-overlay').getAttribute('class')).toContain('hidden');
  }, 30_000);

  it('shows a plate reading character by character with alternatives', async () => {
    await page.goto(`${daemon.address}/#/event/${ids.plate}`);
    await page.locator('.plate-reading').waitFor();
    expect(await page.locator('.plate.big').innerText()).toBe('贵F·12345');
    const rows = await page.locator('.plate-chars tbody tr').allInnerTexts();
    expect(rows).toHaveLength(7);
    expect(rows[0]).toMatch(/贵\s+95%/);
    expect(rows[6]).toMatch(/5\s+55%\s+S 40%/);
    expect(await page.locator('.plate-chars tbody tr.doubtful').count()).toBe(1);
    await page.screenshot({ path: artifact('05-plate.png'), fullPage: true });
  }, 30_000);

  it('exports evidence: a zip whose manifest matches its files and the capture hashes, logged in the audit', async () => {
    await page.goto(`${daemon.address}/#/event/${ids.redMoto}`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export evidence (.zip)' }).click()]);
    const zipFile = path.join(dir, download.suggestedFilename());
    await download.saveAs(zipFile);
    // Named in the box's time (Asia/Shanghai), as the page shows it, with the offset.
    expect(download.suggestedFilename()).toMatch(new RegExp(`^vigil-event-${ids.redMoto}-\\d{8}T\\d{6}\\+0800\\.zip$`));
    const zipBytes = readFileSync(zipFile);
    const files = unzipSync(zipBytes);
    const names = Object.keys(files).map((n) => n.split('/').pop()).sort();
    expect(names).toEqual(['SHA256SUMS', 'crop.jpg', 'event.json', 'frame.jpg']);
    // Check it as an investigator would: unpack and run sha256sum -c on the manifest.
    const out = path.join(dir, 'unzipped');
    for (const [name, bytes] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(out, name)), { recursive: true });
      writeFileSync(path.join(out, name), bytes);
    }
    const folder = path.join(out, readdirSync(out)[0]!);
    expect(execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: folder, encoding: 'utf8' })).toBe('frame.jpg: OK\ncrop.jpg: OK\nevent.json: OK\n');
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    expect(sha(readFileSync(path.join(folder, 'frame.jpg')))).toBe(hashes.motoFrame!.sha256);
    expect(sha(readFileSync(path.join(folder, 'crop.jpg')))).toBe(hashes.motoCrop!.sha256);
    const record = JSON.parse(readFileSync(path.join(folder, 'event.json'), 'utf8'));
    expect(record.event).toMatchObject({ id: ids.redMoto, label: 'motorcycle', camera: 'market-east' });
    expect(record.export.exported_by).toBe('default');
    const logged = auditLines().filter((a) => a.action === 'evidence export' && a.event === ids.redMoto);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ who: 'default', sha256: sha(zipBytes) });
  }, 30_000);

  it('refuses to export an event whose snapshot changed since capture', async () => {
    const frame = path.join(data, 'snapshots', hashes.motoFrame!.path);
    const original = readFileSync(frame);
    try {
      writeFileSync(frame, Buffer.concat([original, Buffer.from('tampered')]));
      const response = await page.request.get(`${daemon.address}/api/events/${ids.redMoto}/evidence.zip`);
      expect(response.status()).toBe(409);
      expect((await response.json()).error).toContain('no longer matches');
      expect(auditLines().some((a) => a.action === 'evidence export refused' && a.event === ids.redMoto)).toBe(true);
    } finally {
      writeFileSync(frame, original);
    }
  });

  it('lists the cameras with state, fps, last frame age and events today', async () => {
    await page.getByRole('link', { name: 'Cameras' }).click();
    await page.locator('.camera-table tbody tr').first().waitFor();
    const row = (name: string) => page.locator('.camera-table tbody tr', { has: page.locator(`th:text-is("${name}")`) });
    await expect.poll(() => row('market-east').locator('.badge').innerText(), { timeout: 20_000 }).toBe('Up');
    await expect.poll(() => row('school-gate').locator('.badge').innerText(), { timeout: 20_000 }).toMatch(/Down|Starting/);
    const market = await row('market-east').innerText();
    expect(market).toMatch(/market/);
    // Events today: those in the store since the box's midnight (the searches' events are on the day of the
    // latest past 14:00, which before 14:00 is yesterday).
    const midnight = Date.parse(`${new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(new Date())}T00:00:00+08:00`);
    const today = (camera: string) => String(inserted.filter((e) => e.camera === camera && e.start >= midnight).length);
    expect(Number(today('market-east'))).toBeGreaterThan(0);
    expect(await row('market-east').locator('td[data-label="Events today"]').innerText()).toBe(today('market-east'));
    expect(await row('school-gate').locator('td[data-label="Events today"]').innerText()).toBe(today('school-gate'));
    // Up, streaming, and no person or vehicle since it came up: the page says so.
    await expect.poll(() => row('market-east').locator('.quiet').innerText(), { timeout: 20_000 }).toMatch(/no people or vehicles for \d+ min/);
    await expect.poll(async () => Number(await row('market-east').locator('td[data-label="Frames/s"]').innerText()), { timeout: 15_000 }).toBeGreaterThan(0.5);
    expect(await row('market-east').locator('td[data-label="Last frame"]').innerText()).toMatch(/s ago/);
    await page.screenshot({ path: artifact('06-cameras.png') });
  }, 40_000);

  it('plays a camera live, and the transcoder stops when the last viewer leaves', async () => {
    const transcoders = () => childProcesses(daemon.child.pid!).filter((c) => c.argv.includes('mpeg1video'));
    expect(transcoders()).toEqual([]);
    await page.getByRole('link', { name: 'Watch market-east live' }).click();
    await page.locator('.live-canvas').waitFor();
    await expect.poll(async () => Number(await page.locator('.live-canvas').getAttribute('data-frames')), { timeout: 20_000 }).toBeGreaterThan(10);
    expect(transcoders()).toHaveLength(1);
    const pid = transcoders()[0]!.pid;
    // Frames arrive: the picture changes (the test pattern moves).
    const first = await page.locator('.live-canvas').screenshot();
    await sleep(1000);
    const second = await page.locator('.live-canvas').screenshot();
    expect(first.equals(second)).toBe(false);
    expect(await page.locator('.live-state').innerText()).toMatch(/^Live/);
    await page.screenshot({ path: artifact('07-live.png') });
    await page.getByRole('link', { name: 'Close live view' }).click();
    await page.locator('.camera-table').waitFor();
    await waitFor('the live transcoder to exit', () => !isAlive(pid), 10_000);
    expect(transcoders()).toEqual([]);
    // A camera that does not answer says so, and why, instead of a black box.
    await page.goto(`${daemon.address}/#/live/school-gate`);
    await expect.poll(() => page.locator('.live-state').innerText(), { timeout: 15_000 }).toMatch(/Connecting to the camera… \(.*refused/i);
    await page.goto(`${daemon.address}/#/cameras`);
    await waitFor('no live transcoder left', () => transcoders().length === 0, 10_000);
  }, 60_000);

  it('works on a phone: no sideways scrolling, cameras as cards', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN' });
    try {
      const p = await phone.newPage();
      await p.goto(daemon.address);
      // The browser's language picks Chinese before anyone chooses.
      await p.getByLabel('访问令牌').fill(token);
      await p.getByRole('button', { name: '登录' }).click();
      await p.getByLabel('目击者看到了什么？').fill('集市 摩托车 下午两点');
      await p.getByRole('button', { name: '检索', exact: true }).click();
      await expect.poll(() => cardIds(p)).toEqual([ids.redMoto, ids.blueMoto].sort((a, b) => a - b));
      const overflow = () => p.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
      expect(await overflow()).toBeLessThanOrEqual(0);
      await p.screenshot({ path: artifact('08-phone-search.png') });
      await p.goto(`${daemon.address}/#/event/${ids.plate}`);
      await p.locator('.plate-reading').waitFor();
      expect(await overflow()).toBeLessThanOrEqual(0);
      await p.screenshot({ path: artifact('09-phone-event.png'), fullPage: true });
      await p.goto(`${daemon.address}/#/cameras`);
      await p.locator('.camera-table tbody tr').first().waitFor();
      expect(await p.locator('.camera-table thead').isVisible()).toBe(false);
      expect(await overflow()).toBeLessThanOrEqual(0);
      await p.screenshot({ path: artifact('10-phone-cameras.png') });
    } finally {
      await phone.close();
    }
  }, 60_000);

  it('marks near-match plates, finds plates and motion by kind, and says what is close when nothing matches', async () => {
    await page.goto(`${daemon.address}/#/search?q=${encodeURIComponent('贵F1234S')}`);
    await expect.poll(() => cardIds()).toEqual([ids.plate]);
    expect(await page.locator('.grid .card .near').innerText()).toBe('Near match');
    await page.goto(`${daemon.address}/#/search?q=${encodeURIComponent('plate at market')}`);
    await expect.poll(() => cardIds()).toEqual([ids.plate]);
    expect((await chips()).join(' | ')).toMatch(/Type\s*Licence plate/i);
    await page.goto(`${daemon.address}/#/search?q=motion`);
    await expect.poll(() => cardIds()).toEqual([ids.motion]);
    // A white motorbike was never seen: the page offers what is close, and says the market camera is quiet.
    await page.goto(`${daemon.address}/#/search?q=${encodeURIComponent('white motorbike at market')}`);
    await expect.poll(() => page.locator('.summary').innerText()).toContain('No events match');
    await page.locator('.suggestions button').first().waitFor();
    const offers = await page.locator('.suggestions button').allInnerTexts();
    expect(offers).toContain('2 × motorcycle · market');
    await expect.poll(() => page.locator('.search-help .warning').allInnerTexts()).toEqual([expect.stringMatching(/^market-east has been streaming for \d+ min without seeing a person or vehicle/)]);
    await page.screenshot({ path: artifact('11-no-results-help.png'), fullPage: true });
    await page.getByRole('button', { name: '2 × motorcycle · market' }).click();
    await expect.poll(() => cardIds()).toEqual([ids.redMoto, ids.blueMoto].sort((a, b) => a - b));
  }, 30_000);

  it('steps through results, shows the close-up large and zoomable, and names a plate event by its plate', async () => {
    await page.goto(`${daemon.address}/#/search?q=motorbike`);
    await expect.poll(async () => (await cardIds()).length).toBe(3);
    const order = await page.locator('.grid .card a').evaluateAll((links) => links.map((a) => Number(a.getAttribute('href')!.split('/').pop())));
    await page.locator('.grid .card a').first().click();
    await page.locator('#event-title').waitFor();
    expect(await page.locator('.stepper .position').innerText()).toBe('Result 1 of 3');
    await page.locator('#result-next').click();
    await expect.poll(() => page.url()).toContain(`#/event/${order[1]}`);
    await expect.poll(() => page.locator('.stepper .position').innerText()).toBe('Result 2 of 3');
    await page.locator('#result-prev').click();
    await expect.poll(() => page.url()).toContain(`#/event/${order[0]}`);
    // The close-up is shown large at the top of the facts, and a click fills the window with it.
    const crop = page.locator('.crop img');
    await expect.poll(() => crop.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
    const box = (await crop.boundingBox())!;
    expect(box.height).toBeGreaterThanOrEqual(300);
    expect(box.y + box.height).toBeLessThan(768);
    await page.getByRole('button', { name: 'Enlarge the close-up' }).click();
    const zoomed = (await crop.boundingBox())!;
    expect(zoomed.height).toBeGreaterThan(650);
    await page.screenshot({ path: artifact('12-event-zoomed.png') });
    await page.keyboard.press('Escape');
    await expect.poll(async () => (await crop.boundingBox())!.height).toBeLessThan(400);
    // A plate event: the plate is the heading, the confidence is the plate read's, one time instead of a duration.
    await page.goto(`${daemon.address}/#/event/${ids.plate}`);
    await page.locator('.plate-reading').waitFor();
    expect(await page.locator('#event-title').innerText()).toBe('贵F·12345 · car · white');
    const facts = await page.locator('.facts').first().innerText();
    expect(facts).toMatch(/Plate read confidence\s+89%/);
    expect(facts).toMatch(/Time\s/);
    expect(facts).not.toContain('Duration');
    // A person's colours are labelled top and bottom.
    await page.goto(`${daemon.address}/#/event/${ids.person}`);
    await page.locator('.facts').first().waitFor();
    const personFacts = await page.locator('.facts').first().innerText();
    expect(personFacts, personFacts).toMatch(/Top\s+white\s+80%[\s\S]*Bottom\s+black\s+60%/);
  }, 40_000);

  it('will not export an event that is still going on, and says why', async () => {
    // An event a pipeline has opened and not yet ended. Written beside the running daemon (WAL lets both
    // write): at its start the daemon closes what a previous run left open, and in this test it records
    // nothing itself (one camera is masked, the other never answers), so the sequence numbers cannot clash.
    const store = EventStore.open(data, { flushMs: 1 });
    const still = await snapshot('still', 'astronaut.png', [200, 20, 460, 360]);
    ids.ongoing = (await store.insert({ kind: 'object', camera: 'school-gate', location: 'school gate', label: 'bicycle', score: 0.7, start: Date.now() - 30_000,
      box: [200, 20, 460, 360], attributes: { colour: { colour: 'green', confidence: 0.6 } }, frame: still.frame, crop: still.crop, frameSize: [640, 360] })).id;
    store.close();
    await page.goto(`${daemon.address}/#/event/${ids.ongoing}`);
    await page.locator('#export').waitFor();
    expect(await page.locator('#export').isDisabled()).toBe(true);
    expect(await page.locator('#export-help').innerText()).toContain('still going on');
    const response = await page.request.get(`${daemon.address}/api/events/${ids.ongoing}/evidence.zip`);
    expect(response.status()).toBe(409);
    expect((await response.json()).error).toContain('still ongoing');
  }, 20_000);

  it('takes times as 24-hour box time, whatever the PC\'s locale', async () => {
    await page.goto(`${daemon.address}/#/search?q=${encodeURIComponent('motorbike 14:00')}`);
    await expect.poll(() => cardIds()).toEqual([ids.redMoto, ids.blueMoto, ids.schoolMoto].sort((a, b) => a - b));
    expect(await page.locator('#qf-from').inputValue()).toMatch(/^\d{4}-\d{2}-\d{2} 13:30$/);
    await page.locator('#qf-from').fill('2026-99-01 25:00');
    await page.getByRole('button', { name: 'Apply time' }).click();
    await expect.poll(() => page.locator('#qf-time-error').innerText()).toContain('YYYY-MM-DD HH:MM');
    const day = (await page.locator('#qf-to').inputValue()).replace(/ 14:30$/, '');
    await page.locator('#qf-from').fill(`${day} 13:35`);
    await page.locator('#qf-to').fill(`${day} 13:50`);
    await page.getByRole('button', { name: 'Apply time' }).click();
    await expect.poll(() => cardIds()).toEqual([ids.blueMoto]);
  }, 30_000);

  it('shows place names in the page\'s language', async () => {
    await page.getByRole('button', { name: 'Switch to Chinese' }).click();
    await page.goto(`${daemon.address}/#/search?q=${encodeURIComponent('red motorbike at market 14:00')}`);
    await expect.poll(() => cardIds()).toEqual([ids.redMoto]);
    expect(await page.locator('.grid .card .card-place').innerText()).toBe('market-east · 集市 · 北门');
    expect((await chips()).join(' | ')).toMatch(/地点\s*集市/);
    await page.screenshot({ path: artifact('13-search-zh-places.png') });
    await page.getByRole('button', { name: '切换到英文' }).click();
  }, 30_000);

  it('loads every view without a console error or a failed request', async () => {
    const fresh = await context.newPage();
    const problems: string[] = [];
    fresh.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`); });
    fresh.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    fresh.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`); });
    try {
      for (const hash of ['#/search', `#/search?q=${encodeURIComponent('red motorbike at market 14:00')}`, `#/event/${ids.redMoto}`, `#/event/${ids.plate}`, '#/cameras', '#/live/market-east']) {
        await fresh.goto(`${daemon.address}/${hash}`);
        await fresh.locator('main > *').first().waitFor();
        await sleep(hash.startsWith('#/live') ? 3000 : 700);
      }
      expect(problems).toEqual([]);
    } finally {
      await fresh.close();
    }
  }, 60_000);

  it('labels every control and describes every image', async () => {
    for (const hash of ['#/search?q=red', `#/event/${ids.plate}`, '#/cameras']) {
      await page.goto(`${daemon.address}/${hash}`);
      await page.locator('main > *').first().waitFor();
      await sleep(300);
      const unlabelled = await page.evaluate<string[]>(`[...document.querySelectorAll('input, select')]
        .filter((el) => el.labels.length === 0 && !el.getAttribute('aria-label')).map((el) => el.outerHTML)`);
      expect(unlabelled, hash).toEqual([]);
      const unnamedButtons = await page.evaluate<string[]>(`[...document.querySelectorAll('button, a')]
        .filter((el) => !(el.textContent || '').trim() && !el.getAttribute('aria-label')).map((el) => el.outerHTML)`);
      expect(unnamedButtons, hash).toEqual([]);
      expect(await page.locator('img:not([alt])').count(), hash).toBe(0);
    }
  }, 30_000);

  it('signs out, after which the API refuses the old page', async () => {
    await page.goto(`${daemon.address}/#/search`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Access token').waitFor();
    expect((await context.cookies()).find((c) => c.name === 'vigil_session')).toBeUndefined();
    expect((await page.request.get(`${daemon.address}/api/cameras`)).status()).toBe(401);
  }, 30_000);
});
