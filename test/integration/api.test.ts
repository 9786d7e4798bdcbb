// The officers' HTTP API on a running daemon: tokens, search, events, snapshots, audit, garbage input.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStore } from '../../src/events/store.js';
import { parseQuery } from '../../src/search/query-parser.js';
import { planSearch } from '../../src/events/sqlite-search.js';
import { startDaemonProcess, type DaemonProcess } from '../harness/daemon-process.js';
import { closedPort } from '../harness/rtsp-process.js';
import { writeDaemonConfig } from '../harness/daemon-config.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-api-'));
const data = path.join(dir, 'data');
let daemon: DaemonProcess;
let token: string;
let ids: number[] = [];
const jpeg = Buffer.from('/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQH/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AKp//2Q==', 'base64');

beforeAll(async () => {
  mkdirSync(path.join(data, 'snapshots', 'market-east'), { recursive: true });
  writeFileSync(path.join(data, 'snapshots', 'market-east', 'e1-frame.jpg'), jpeg);
  const store = EventStore.open(data, { flushMs: 1 });
  // "Today" as the daemon will see it: the date in Asia/Shanghai, not UTC.
  // The day whose 14:00 is the latest past one: "下午两点" means that day's afternoon (a witness's time is
  // in the past), whatever hour the test runs at.
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date(Date.now() - 14 * 3600_000));
  const at = (hhmm: string) => Date.parse(`${today}T${hhmm}:00+08:00`);
  const sha = createHash('sha256').update(jpeg).digest('hex');
  ids = [
    (await store.insert({ kind: 'object', camera: 'market-east', location: 'market', label: 'motorcycle', score: 0.9, start: at('14:05'), end: at('14:06'),
      attributes: { colour: { colour: 'red', confidence: 0.8 } }, frame: { path: 'market-east/e1-frame.jpg', sha256: sha, bytes: jpeg.length } })).id,
    (await store.insert({ kind: 'plate', camera: 'market-east', location: 'market', label: 'car', score: 0.9, start: at('15:00'), end: at('15:00'),
      attributes: { plate: { text: '贵F12345', confidence: 0.9 } } })).id,
  ];
  store.close();
  const file = writeDaemonConfig(dir, {
    cameras: [{ name: 'market-east', url: `rtsp://127.0.0.1:${await closedPort()}/x`, location: 'market', aliases: ['集市'] }],
    busPort: null,
    timeZone: 'Asia/Shanghai',
    // This file forges and guesses credentials on purpose, all from 127.0.0.1: the per-address lockout
    // (api-security.test.ts) would otherwise answer 429 to the checks that follow.
    api: { auth_failures_per_minute: 10000 },
    extra: { plates: { enabled: false } },
  });
  daemon = await startDaemonProcess(['--config', file]);
  token = readFileSync(path.join(data, 'api-token'), 'utf8').trim();
}, 60_000);
afterAll(async () => daemon?.stop());

const get = (url: string, auth: string | null = token) =>
  fetch(`${daemon.address}${url}`, { headers: auth === null ? {} : { authorization: `Bearer ${auth}` } });
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = async (url: string): Promise<Record<string, any>> => (await get(url)).json() as Promise<Record<string, any>>;

describe('the API', () => {
  it('refuses every /api route without the right token, and leaves /metrics and /healthz open', async () => {
    for (const url of ['/api/search?q=car', '/api/events', `/api/events/${ids[0]}`, `/api/events/${ids[0]}/snapshot.jpg`, `/api/events/${ids[0]}/crop.jpg`,
      `/api/events/${ids[0]}/evidence.zip`, '/api/cameras', '/api/info', '/api/live/market-east']) {
      const none = await get(url, null);
      expect(none.status, url).toBe(401);
      expect(none.headers.get('www-authenticate')).toContain('Bearer');
      expect((await get(url, 'wrong-token-wrong-token')).status, url).toBe(401);
    }
    expect((await get('/metrics', null)).status).toBe(200);
    expect((await get('/healthz', null)).status).toBe(200);
    expect(daemon.logRecords().some((r) => String(r.msg).startsWith('generated an API token'))).toBe(true);
  });

  it('searches in words, lists by field, returns events and their snapshots, and audits each search', async () => {
    const search = await json(`/api/search?q=${encodeURIComponent('集市 红色摩托车 下午两点')}`);
    expect(search.filter.labels).toEqual(['motorcycle']);
    expect(search.events.map((e: { id: number }) => e.id)).toEqual([ids[0]]);
    const listed = await json('/api/events?label=motorcycle&color=red&camera=market-east');
    expect(listed.events.map((e: { id: number }) => e.id)).toEqual([ids[0]]);
    const plate = await json(`/api/events?plate=${encodeURIComponent('贵F·1234S')}`);
    expect(plate.events.map((e: { id: number }) => e.id)).toEqual([ids[1]]);
    // Search marks a plate read one character off, and says what is close when nothing matches.
    expect((await json(`/api/search?q=${encodeURIComponent('贵F12345')}`)).events.map((e: { near_match: string[] }) => e.near_match)).toEqual([[]]);
    const near = await json(`/api/search?q=${encodeURIComponent('贵F1234S')}`);
    expect(near.events.map((e: { id: number; near_match: string[]; sightings: number }) => [e.id, e.near_match, e.sightings])).toEqual([[ids[1], ['plate'], 1]]);
    const none = await json('/api/search?q=blue%20motorbike');
    expect(none.events).toEqual([]);
    expect(none.suggestions).toContainEqual(expect.objectContaining({ change: 'any-colour', count: 1, filter: expect.objectContaining({ labels: ['motorcycle'], colours: [] }) }));
    expect((await json('/api/search?q=motorbike')).suggestions).toBeUndefined();
    const one = await json(`/api/events/${ids[0]}`);
    expect(one).toMatchObject({ id: ids[0], kind: 'object', label: 'motorcycle', attributes: { colour: { colour: 'red' } } });
    const snap = await get(`/api/events/${ids[0]}/snapshot.jpg`);
    expect(snap.status).toBe(200);
    expect(snap.headers.get('content-type')).toBe('image/jpeg');
    const bytes = Buffer.from(await snap.arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(snap.headers.get('x-content-sha256'));
    expect((await get(`/api/events/${ids[0]}/crop.jpg`)).status).toBe(404);
    expect((await get('/api/events/999999')).status).toBe(404);
    const audit = readFileSync(path.join(data, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(audit.some((a) => a.via === 'api' && a.who === 'default' && a.query === '集市 红色摩托车 下午两点' && a.results === 1)).toBe(true);
  });

  it('signs a browser in with the token: an HMAC session cookie that a forger cannot make or stretch', async () => {
    const signIn = (body: unknown) => fetch(`${daemon.address}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await signIn({ token: 'nope' })).status).toBe(401);
    const ok = await signIn({ token });
    expect(ok.status).toBe(200);
    const setCookie = ok.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^vigil_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    const cookie = setCookie.split(';')[0]!;
    const withCookie = (c: string, init: RequestInit = {}) => fetch(`${daemon.address}/api/cameras`, { ...init, headers: { cookie: c, ...(init.headers ?? {}) } });
    expect((await withCookie(cookie)).status).toBe(200);
    const [name, expires, mac] = cookie.slice('vigil_session='.length).split('.') as [string, string, string];
    // Pushing the expiry out, or flipping the MAC, or naming another token: all refused.
    expect((await withCookie(`vigil_session=${name}.${Number(expires) + 86_400_000}.${mac}`)).status).toBe(401);
    expect((await withCookie(`vigil_session=${name}.${expires}.${mac.slice(0, -2)}${mac.endsWith('AA') ? 'BB' : 'AA'}`)).status).toBe(401);
    expect((await withCookie(`vigil_session=${Buffer.from('admin').toString('base64url')}.${expires}.${mac}`)).status).toBe(401);
    // A search the page edits is a POST; from another origin the cookie does not count.
    const post = (origin: string) => fetch(`${daemon.address}/api/search`, { method: 'POST', headers: { cookie, origin, 'content-type': 'application/json' },
      body: JSON.stringify({ filter: { labels: ['motorcycle'], colours: [], places: [], time: null, plate: null, unknown: [] } }) });
    expect((await post('http://evil.example')).status).toBe(403);
    const same = await post(daemon.address);
    expect(same.status).toBe(200);
    expect(((await same.json()) as { events: Array<{ id: number }> }).events.map((e) => e.id)).toEqual([ids[0]]);
    // A malformed filter names the field.
    const bad = await fetch(`${daemon.address}/api/search`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ filter: { colours: [{ colour: 'plaid' }] } }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/^body\.filter\.colours\.0\.colour/);
  });

  it('answers bad parameters with 400 and a reason, never 500', async () => {
    for (const url of ['/api/events?from=yesterday-ish', '/api/events?color=plaid', '/api/events?limit=0', '/api/search?q=car&cursor=%%%', '/api/events/abc', `/api/search?q=${'x'.repeat(600)}`]) {
      const r = await get(url);
      expect(r.status, url).toBe(400);
      expect(((await r.json()) as { error: unknown }).error).toEqual(expect.any(String));
    }
  });

  it('survives random and hostile queries over HTTP', async () => {
    const queries = fc.sample(fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 30 }), fc.constantFrom("'; DROP TABLE events; --", '%00', '贵F·8*?*', '\u0000\uffff', '..\\..')), { numRuns: 300, seed: 42 });
    for (const q of queries) {
      const r = await get(`/api/search?q=${encodeURIComponent(q)}`);
      expect(r.status, JSON.stringify(q)).toBe(200);
    }
    const count = await json('/api/events?limit=500');
    expect(count.events).toHaveLength(2);
    // Listings are newest first, with or without a time range.
    expect(count.events.map((e: { id: number }) => e.id)).toEqual([ids[1], ids[0]]);
    const ranged = await json(`/api/events?from=${encodeURIComponent('2020-01-01T00:00:00Z')}`);
    expect(ranged.events.map((e: { id: number }) => e.id)).toEqual([ids[1], ids[0]]);
  });
});

describe('parser and planner under 10,000 random queries', () => {
  it('never throw, always plan with parameters, and leave the store untouched', () => {
    const store = EventStore.open(mkdtempSync(path.join(os.tmpdir(), 'vigil-fuzz-')));
    const ctx = { now: new Date(), timeZone: 'Asia/Shanghai', windowMinutes: 30, places: [{ kind: 'location' as const, name: 'market', terms: ['market', '集市'] }] };
    const words = fc.constantFrom('red', '红色', 'car', '摩托车', 'market', '集市', '14:00', '下午两点', '贵F·8', 'between', 'and', '2026-13-45', '99:99', '最近', '点', '*', "'", '"', ';', '--', '/*');
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), fc.array(words, { maxLength: 12 }).map((w) => w.join(' '))), (q) => {
        const filter = parseQuery(q, ctx);
        const plan = planSearch(filter, { limit: 10 });
        // Every value reaches SQLite as a parameter: the SQL text holds none of the query's characters.
        for (const v of [...filter.labels, ...filter.colours.map((c) => c.colour), ...filter.unknown]) if (v.length > 2) expect(plan.sql).not.toContain(`'${v}'`);
        store.searchEvents(filter, { limit: 10 });
      }),
      { numRuns: 10_000, seed: 7 },
    );
    // Still a sound store with its events table: nothing the queries said was run as SQL.
    expect(store.integrityCheck()).toBe('ok');
    expect(store.count()).toBe(0);
    store.close();
  });
});
