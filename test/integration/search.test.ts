// Search end to end on a real SQLite store filled with events of known attributes.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { EventStore, type EventFields } from '../../src/events/store.js';
import { parseQuery } from '../../src/search/query-parser.js';
import { plateVariants } from '../../src/plates/plate-variants.js';
import { placesFromConfig } from '../../src/search/search.js';
import { SearchService, searchAnswerJson } from '../../src/search/search-service.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { runCli } from '../harness/daemon-process.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-search-'));
const configFile = path.join(dir, 'vigil.yaml');
const CONFIG = `data_dir: ./data
time_zone: Asia/Shanghai
bus: { publish: null }
cameras:
  - { name: market-east, url: rtsp://127.0.0.1:1/a, location: market, aliases: [集市, bazaar],
      zones: [{ name: crossing, aliases: [斑马线], polygon: [[0, 0.5], [1, 0.5], [1, 1], [0, 1]] }] }
  - { name: school-gate, url: rtsp://127.0.0.1:1/b, location: school gate, aliases: [学校, 校门] }
`;
writeFileSync(configFile, CONFIG);
const { config } = parseConfig(CONFIG, configFile);
const at = (hhmm: string, day = '2026-11-28') => Date.parse(`${day}T${hhmm}:00+08:00`);
const colour = (c: string) => ({ colour: c, confidence: 0.8 });

// id order = insertion order below.
const EVENTS: Array<EventFields & { key: string }> = [
  { key: 'redMoto1400', kind: 'object', camera: 'market-east', location: 'market', label: 'motorcycle', score: 0.8, start: at('14:02'), end: at('14:03'), attributes: { colour: colour('red') } },
  { key: 'redMoto1420', kind: 'object', camera: 'market-east', location: 'market', label: 'motorcycle', score: 0.9, start: at('14:20'), end: at('14:21'), attributes: { colour: colour('red') } },
  { key: 'blueMoto1400', kind: 'object', camera: 'market-east', location: 'market', label: 'motorcycle', score: 0.9, start: at('14:00'), end: at('14:01'), attributes: { colour: colour('blue') } },
  { key: 'redMotoSchool', kind: 'object', camera: 'school-gate', location: 'school gate', label: 'motorcycle', score: 0.9, start: at('14:01'), end: at('14:02'), attributes: { colour: colour('red') } },
  { key: 'redMoto1800', kind: 'object', camera: 'market-east', location: 'market', label: 'motorcycle', score: 0.9, start: at('18:00'), end: at('18:01'), attributes: { colour: colour('red') } },
  { key: 'personRedTop', kind: 'object', camera: 'market-east', location: 'market', label: 'person', score: 0.7, start: at('10:00'), end: at('10:01'), zones: ['crossing'], attributes: { upper_colour: colour('red'), lower_colour: colour('blue') } },
  { key: 'personRedPants', kind: 'object', camera: 'market-east', location: 'market', label: 'person', score: 0.7, start: at('10:05'), end: at('10:06'), attributes: { upper_colour: colour('white'), lower_colour: colour('red') } },
  { key: 'plateMisread', kind: 'plate', camera: 'school-gate', location: 'school gate', label: 'car', score: 0.9, start: at('19:30', '2026-11-27'), end: at('19:30', '2026-11-27'), attributes: { plate: { text: '贵F1234S', confidence: 0.9 } } },
  { key: 'plateOther', kind: 'plate', camera: 'school-gate', location: 'school gate', label: 'car', score: 0.9, start: at('19:40', '2026-11-27'), end: at('19:40', '2026-11-27'), attributes: { plate: { text: '贵A88888', confidence: 0.9 } } },
  { key: 'silverCar', kind: 'object', camera: 'school-gate', location: 'school gate', label: 'car', score: 0.6, start: at('09:00'), end: at('09:05'), attributes: { colour: { colour: 'white', confidence: 0.5, alternative: 'grey' } } },
];
const ids = new Map<string, number>();
let store: EventStore;
const ctx = { now: new Date('2026-11-28T09:30:00Z'), timeZone: 'Asia/Shanghai', windowMinutes: 30, places: placesFromConfig(config) };

beforeAll(async () => {
  store = EventStore.open(path.join(dir, 'data'), { flushMs: 1 });
  for (const { key, ...e } of EVENTS) ids.set(key, (await store.insert(e)).id);
});
afterAll(() => store.close());

/** A page of events as their ids. */
const ids_ = (page: { events: Array<{ id: number }>; next?: string }) => ({ events: page.events.map((e) => e.id), next: page.next });

function find(query: string): string[] {
  const page = ids_(store.searchEvents(parseQuery(query, ctx), { limit: 50 }));
  return page.events.map((id) => [...ids.entries()].find(([, v]) => v === id)![0]);
}

describe('search', () => {
  it('answers the officers\' questions with the right events, closest to the asked time first', () => {
    expect(find('red motorbike at market 14:00')).toEqual(['redMoto1400', 'redMoto1420']);
    expect(find('集市 红色摩托车 下午两点')).toEqual(['redMoto1400', 'redMoto1420']);
    expect(find('red motorbike')).toEqual(['redMoto1800', 'redMoto1420', 'redMoto1400', 'redMotoSchool']); // newest first
    expect(find('motorcycle school')).toEqual(['redMotoSchool']);
    expect(find('person in red')).toEqual(['personRedTop']);
    expect(find('穿红衣服的人')).toEqual(['personRedTop']);
    expect(find('red trousers')).toEqual(['personRedPants']);
    expect(find('red person')).toEqual(['personRedPants', 'personRedTop']);
    expect(find('斑马线')).toEqual(['personRedTop']);
    expect(find('silver car')).toEqual(['silverCar']);
  });

  it('finds plates fuzzily (one character off, confusables equal) and by fragment', () => {
    expect(find('贵F12345')).toEqual(['plateMisread']);
    expect(find('贵F1234')).toEqual(['plateMisread']);
    expect(find('贵F·12')).toEqual(['plateMisread']);
    expect(find('F12*4')).toEqual(['plateMisread']);
    expect(find('88888')).toEqual(['plateOther']);
    expect(find('贵B99999')).toEqual([]);
    expect(plateVariants('贵F12345')).toContain('贵F1234S');
  });

  it('plans queries that use the indexes, never a scan of all events', () => {
    for (const q of ['red motorbike at market 14:00', '集市 红色摩托车 下午两点', 'person near school yesterday evening', '贵F12345', '贵F·8', 'crossing', 'car', 'last 2 hours']) {
      const steps = store.explainSearch(parseQuery(q, ctx), { limit: 20 });
      expect(steps.filter((d) => /^SCAN e\b/.test(d)), `${q}: ${steps.join(' | ')}`).toEqual([]);
    }
  });

  it('pages with a cursor', () => {
    const filter = parseQuery('motorcycle', ctx);
    const first = ids_(store.searchEvents(filter, { limit: 2 }));
    const second = ids_(store.searchEvents(filter, { limit: 2, cursor: first.next }));
    const third = ids_(store.searchEvents(filter, { limit: 2, cursor: second.next }));
    expect([...first.events, ...second.events, ...third.events]).toHaveLength(5);
    expect(new Set([...first.events, ...second.events, ...third.events]).size).toBe(5);
    expect(third.next).toBeUndefined();
    expect(() => store.searchEvents(filter, { limit: 2, cursor: 'garbage' })).toThrow('invalid cursor');
  });
});

// The detector reports a ridden two-wheeler as one event: `colour` the bike's body, `upper_colour` its rider.
describe('search on two-wheelers and their riders', () => {
  const riderDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-search-riders-'));
  let riders: EventStore;
  let service: SearchService;
  const keys = new Map<number, string>();
  // Each listed in the store's newest-first order, the rider in red newest and likeliest: only the near-match
  // ranking puts the red bike first.
  const RIDERS: Array<EventFields & { key: string }> = [
    { key: 'redBike', kind: 'object', camera: 'market-east', location: 'market', label: 'motorcycle', score: 0.6, start: at('14:00'), end: at('14:01'), attributes: { colour: colour('red'), upper_colour: colour('blue') } },
    { key: 'blueBikeRedRider', kind: 'object', camera: 'market-east', location: 'market', label: 'motorcycle', score: 0.9, start: at('14:05'), end: at('14:06'), attributes: { colour: colour('blue'), upper_colour: colour('red') } },
    { key: 'personInRed', kind: 'object', camera: 'market-east', location: 'market', label: 'person', score: 0.9, start: at('14:10'), end: at('14:11'), attributes: { upper_colour: colour('red'), lower_colour: colour('black') } },
  ];

  beforeAll(async () => {
    riders = EventStore.open(path.join(riderDir, 'data'), { flushMs: 1 });
    for (const { key, ...e } of RIDERS) keys.set((await riders.insert(e)).id, key);
    service = new SearchService(riders, new AuditLog(path.join(riderDir, 'data')), () => ({ timeZone: 'Asia/Shanghai', places: [], windowMinutes: 30 }));
  });
  afterAll(() => riders.close());

  const answer = async (q: string) => searchAnswerJson(await service.search({ who: 'test', via: 'cli' }, { text: q }, { limit: 20 }))
    .events.map((e) => [keys.get(e.id), e.near_match]);

  it('finds the bike\'s own colour first, its rider\'s clothing after it as a near match, and no person', async () => {
    for (const q of ['red motorbike', '红色摩托车', 'red scooter', '红色电动车']) {
      expect((await answer(q)), q).toEqual([['redBike', []], ['blueBikeRedRider', ['rider-colour']]]);
    }
    // Unchanged for people: a person in red is an exact match.
    expect((await answer('person in red'))).toEqual([['personInRed', []]]);
    expect((await answer('blue motorbike'))).toEqual([['blueBikeRedRider', []], ['redBike', ['rider-colour']]]);
    // Dark blue reads black: the blue bike is a colour near match, the red bike's blue-clad rider both.
    expect((await answer('black motorbike'))).toEqual([['blueBikeRedRider', ['colour']], ['redBike', ['colour', 'rider-colour']]]);
  });

  it('finds the motorcycles by any of their names', async () => {
    for (const q of ['motorbike', 'scooter', 'e-bike', '摩托车', '电动车', '电瓶车']) {
      expect((await answer(q)).map(([key]) => key).sort(), q).toEqual(['blueBikeRedRider', 'redBike']);
      expect((await answer(q)).every(([, near]) => (near as string[]).length === 0), q).toBe(true);
    }
  });
});

// The detector's confusions: SUVs, pickups and vans labelled truck, silver and white cars read grey (or white
// read grey at dusk), dark blue read black. Search finds the neighbours too, ranked below the exact matches of
// the page and marked as near matches.
describe('search forgives label and colour confusions', () => {
  const nearDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-search-near-'));
  let near: EventStore;
  let service: SearchService;
  const keys = new Map<number, string>();
  // All in one hour but the plate reading (an hour before), so within it the likeliest first: only the
  // near-match ranking puts the white car (least likely) first for "white car".
  const NEAR: Array<EventFields & { key: string }> = [
    { key: 'plateTruck', kind: 'plate', camera: 'school-gate', location: 'school gate', label: 'truck', score: 0.9, start: at('08:00'), end: at('08:00'), attributes: { plate: { text: '贵F1234S', confidence: 0.9 } } },
    { key: 'whiteCar', kind: 'object', camera: 'school-gate', location: 'school gate', label: 'car', score: 0.6, start: at('09:00'), end: at('09:01'), attributes: { colour: colour('white') } },
    { key: 'greyCar', kind: 'object', camera: 'school-gate', location: 'school gate', label: 'car', score: 0.9, start: at('09:05'), end: at('09:06'), attributes: { colour: colour('grey') } },
    { key: 'whiteTruck', kind: 'object', camera: 'school-gate', location: 'school gate', label: 'truck', score: 0.8, start: at('09:10'), end: at('09:11'), attributes: { colour: colour('white') } },
    { key: 'blackCar', kind: 'object', camera: 'school-gate', location: 'school gate', label: 'car', score: 0.7, start: at('09:15'), end: at('09:16'), attributes: { colour: colour('black') } },
    { key: 'blueCar', kind: 'object', camera: 'school-gate', location: 'school gate', label: 'car', score: 0.75, start: at('09:20'), end: at('09:21'), attributes: { colour: colour('blue') } },
    { key: 'personInWhite', kind: 'object', camera: 'school-gate', location: 'school gate', label: 'person', score: 0.95, start: at('09:25'), end: at('09:26'), attributes: { upper_colour: colour('white'), lower_colour: colour('black') } },
  ];

  beforeAll(async () => {
    near = EventStore.open(path.join(nearDir, 'data'), { flushMs: 1 });
    for (const { key, ...e } of NEAR) keys.set((await near.insert(e)).id, key);
    service = new SearchService(near, new AuditLog(path.join(nearDir, 'data')), () => ({ timeZone: 'Asia/Shanghai', places: [], windowMinutes: 30 }));
  });
  afterAll(() => near.close());

  const search = async (q: string) => searchAnswerJson(await service.search({ who: 'test', via: 'cli' }, { text: q }, { limit: 20 }));
  const answer = async (q: string) => (await search(q)).events.map((e) => [keys.get(e.id), e.near_match]);

  it('finds a white car first, then the grey car and the white truck as near matches', async () => {
    for (const q of ['white car', '白色轿车', '白色汽车', 'white sedan']) {
      expect((await answer(q)), q).toEqual([['whiteCar', []], ['greyCar', ['colour']], ['whiteTruck', ['label']]]);
    }
    // Silver is grey: the grey car exactly, white below it.
    // Off in one way before off in two: the white car before the white truck, though less likely.
    for (const q of ['silver car', 'grey car', '银色轿车', '灰色小车']) {
      expect((await answer(q)), q).toEqual([['greyCar', []], ['whiteCar', ['colour']], ['whiteTruck', ['label', 'colour']]]);
    }
    expect((await answer('white truck'))).toEqual([['whiteTruck', []], ['whiteCar', ['label']], ['greyCar', ['label', 'colour']]]);
  });

  it('finds black and dark blue as neighbours, both ways', async () => {
    for (const q of ['black car', '黑色轿车']) expect((await answer(q)), q).toEqual([['blackCar', []], ['blueCar', ['colour']]]);
    for (const q of ['blue car', '蓝色轿车']) expect((await answer(q)), q).toEqual([['blueCar', []], ['blackCar', ['colour']]]);
    // Grey and black are not neighbours; red has none.
    expect((await answer('grey car')).map(([key]) => key)).not.toContain('blackCar');
    expect((await answer('red car'))).toEqual([]);
  });

  it('finds trucks for a car and cars for a truck, below the exact label; every vehicle for 车', async () => {
    const cars = [['greyCar', []], ['blueCar', []], ['blackCar', []], ['whiteCar', []], ['whiteTruck', ['label']], ['plateTruck', ['label']]];
    for (const q of ['car', 'cars', '轿车', '汽车', '小车', 'suv', 'taxi']) expect((await answer(q)), q).toEqual(cars);
    const trucks = [['whiteTruck', []], ['plateTruck', []], ['greyCar', ['label']], ['blueCar', ['label']], ['blackCar', ['label']], ['whiteCar', ['label']]];
    for (const q of ['truck', 'van', 'pickup', '货车', '面包车', '皮卡']) expect((await answer(q)), q).toEqual(trucks);
    expect((await answer('车')).every(([, reasons]) => (reasons as string[]).length === 0)).toBe(true);
    expect((await answer('车'))).toHaveLength(6);
    // People are unchanged; their clothing has the colour neighbours too.
    expect((await answer('person'))).toEqual([['personInWhite', []]]);
    expect((await answer('person in white'))).toEqual([['personInWhite', []]]);
    expect((await answer('person in grey'))).toEqual([['personInWhite', ['colour']]]);
    expect((await answer('bus'))).toEqual([]);
  });

  it('still marks a plate one character off, with the label near too', async () => {
    expect((await answer('贵F12345'))).toEqual([['plateTruck', ['plate']]]);
    expect((await answer('car 贵F12345'))).toEqual([['plateTruck', ['plate', 'label']]]);
    expect((await answer('truck 贵F1234S'))).toEqual([['plateTruck', []]]);
  });

  it('does not suggest what the near matches already find', async () => {
    const none = await search('yellow car');
    expect(none.events).toEqual([]);
    expect(none.suggestions!.map((s) => s.filter.labels.join('/'))).not.toContain('truck');
    expect(none.suggestions).toContainEqual(expect.objectContaining({ change: 'any-colour', count: 6, filter: expect.objectContaining({ labels: ['car'], colours: [] }) }));
  });

  it('answers with the label and colour indexes, never a scan of all events', async () => {
    for (const q of ['white car', 'car', 'truck', 'black car at school 9am', 'silver truck']) {
      const steps = near.explainSearch(parseQuery(q, ctx), { limit: 20 });
      expect(steps.filter((d) => /^SCAN e\b/.test(d)), `${q}: ${steps.join(' | ')}`).toEqual([]);
    }
  });
});

describe('vigil search', () => {
  it('explains how a colour is matched on a vehicle: its own colour, its rider\'s clothing as a near match', async () => {
    const r = await runCli(['search', 'red motorbike', '--config', configFile, '--explain']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("labels motorcycle; colours red\n  red: the vehicle's own colour; its rider's clothing as a near match (ranked below)\n");
    // The detector's label and colour confusions, found as near matches.
    const white = await runCli(['search', '白色轿车', '--config', configFile, '--explain']);
    expect(white.stdout).toBe(['labels car; colours white', '  car: also trucks (SUVs, pickups, vans), as near matches ranked below',
      '  white: also grey/silver, as a near match ranked below', "  white: the vehicle's own colour; its rider's clothing as a near match (ranked below)", ''].join('\n'));
    // Nothing added where no vehicle is asked for.
    const person = await runCli(['search', 'red person', '--config', configFile, '--explain']);
    expect(person.stdout).toBe('labels person; colours red\n');
  });

  it('explains the parsed filter as JSON with canonical names and ISO local times', async () => {
    const r = await runCli(['search', '集市 红色摩托车 下午两点', '--config', configFile, '--explain', '--json']);
    expect(r.code).toBe(0);
    const f = JSON.parse(r.stdout);
    expect(f).toMatchObject({ labels: ['motorcycle'], colours: [{ colour: 'red', part: 'any' }], places: [{ kind: 'location', name: 'market' }], plate: null, unknown: [] });
    expect(f.time.from).toMatch(/^\d{4}-\d{2}-\d{2}T13:30:00\+08:00$/);
  });

  it('prints matching events and writes the audit log', async () => {
    const r = await runCli(['search', 'red motorbike market', '--config', configFile, '--json', '--limit', '2']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.events.map((e: { id: number }) => e.id)).toEqual([ids.get('redMoto1800'), ids.get('redMoto1420')]);
    expect(out.next).toEqual(expect.any(String));
    const audit = readFileSync(path.join(dir, 'data', 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(audit[audit.length - 1]).toMatchObject({ via: 'cli', query: 'red motorbike market', results: 2, who: expect.any(String), at: expect.any(String) });
    expect((await runCli(['search', 'x', '--config', configFile, '--limit', '0'])).code).toBe(2);
    expect((await runCli(['search'])).code).toBe(2);
  });

  it('prints times in the box\'s time zone, as the page does, not UTC', async () => {
    const r = await runCli(['search', 'red motorbike market', '--config', configFile, '--limit', '2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('(times in Asia/Shanghai)');
    const times = [...r.stdout.matchAll(/^ {2}(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) /gm)].map((m) => m[1]);
    expect(times).toHaveLength(2);
    // The 18:00 event (local) is printed as 18:00, not 10:00Z.
    expect(times[0]).toMatch(/ 18:00:\d{2}$/);
    expect(r.stdout).not.toMatch(/\d{2}:\d{2}:\d{2}(\.\d+)?Z/);
  });

  it('falls back to the demo config without --config, as vigil run does', async () => {
    const r = await runCli(['search', '下午两点', '--explain', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('demo config');
    expect(JSON.parse(r.stdout).time.from).toMatch(/T13:30:00[+-]\d{2}:\d{2}$/);
  });
});
