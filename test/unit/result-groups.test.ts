// A page of matches as the officer sees it: the likeliest first within the time order, one card per sighting.
import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../src/events/store.js';
import { parseQuery } from '../../src/search/query-parser.js';
import { relaxations } from '../../src/search/relaxations.js';
import { groupResults } from '../../src/search/result-groups.js';
import { exactMatchesFirst, explainColourMatches, nearMatches } from '../../src/search/search.js';

const T0 = Date.parse('2026-11-28T14:00:00+08:00');
let nextId = 1;
function event(fields: Partial<StoredEvent> & { start: number }): StoredEvent {
  return {
    id: nextId++, seq: nextId, kind: 'object', camera: 'market-east', location: 'market', label: 'person', score: 0.8, end: fields.start + 5000,
    box: null, path: null, zones: [], attributes: {}, frame: null, crop: null, frameSize: null, clips: [], updated: 0, ...fields,
  };
}

const words = (q: string) => parseQuery(q, { now: new Date(T0), timeZone: 'Asia/Shanghai', places: [], windowMinutes: 30 });
const reading = (colour: string, alternative?: string) => ({ colour, confidence: 0.8, ...(alternative ? { alternative } : {}) });

describe('groupResults', () => {
  it('puts the likelier of two events in the same ten minutes first, and keeps the time order across steps', () => {
    const cone = event({ start: T0 + 60_000, score: 0.36 });
    const walker = event({ start: T0 + 3 * 60_000, score: 0.84 });
    const later = event({ start: T0 + 25 * 60_000, score: 0.95 });
    // The store's order: closest to 14:00 first.
    const groups = groupResults([cone, walker, later], T0);
    expect(groups.map((g) => g.event.id)).toEqual([walker.id, cone.id, later.id]);
    // Newest first without a time: within the hour by score, then older hours.
    const old = event({ start: T0 - 2 * 3600_000, score: 0.99 });
    expect(groupResults([later, walker, cone, old], undefined).map((g) => g.event.id)).toEqual([later.id, walker.id, cone.id, old.id]);
  });

  it('folds the plate events read on a track into its object event, and repeated readings of a plate into one', () => {
    const car = event({ label: 'car', start: T0, attributes: { track: 'run1-7', colour: { colour: 'white', confidence: 0.8 } } });
    const read1 = event({ kind: 'plate', label: 'car', start: T0 + 2000, end: T0 + 2000, score: 0.9, attributes: { track: 'run1-7', plate: { text: '贵F12345' } } });
    const read2 = event({ kind: 'plate', label: 'car', start: T0 + 300_000, end: T0 + 300_000, score: 0.7, attributes: { track: 'run1-9', plate: { text: '贵F12345' } } });
    const otherCamera = event({ kind: 'plate', camera: 'school-gate', label: 'car', start: T0 + 1000, end: T0 + 1000, attributes: { plate: { text: '贵F12345' } } });
    const muchLater = event({ kind: 'plate', label: 'car', start: T0 + 3600_000, end: T0 + 3600_000, attributes: { plate: { text: '贵F12345' } } });
    const groups = groupResults([car, read1, read2, otherCamera, muchLater], T0);
    expect(groups).toHaveLength(3);
    const first = groups.find((g) => g.event.id === car.id)!;
    expect(first.also.map((e) => e.id)).toEqual([read1.id, read2.id]);
    expect(groups.map((g) => g.event.id)).toContain(otherCamera.id);
    expect(groups.map((g) => g.event.id)).toContain(muchLater.id);
    // Two people without track keys stay two cards.
    expect(groupResults([event({ start: T0 }), event({ start: T0 + 1000 })], T0)).toHaveLength(2);
  });
});

describe('nearMatches', () => {
  it('marks a plate reading that differs from the plate asked for', () => {
    const filter = parseQuery('贵F12345', { now: new Date(T0), timeZone: 'Asia/Shanghai', places: [], windowMinutes: 30 });
    expect(nearMatches(event({ kind: 'plate', start: T0, attributes: { plate: { text: '贵F12345' } } }), filter)).toEqual([]);
    expect(nearMatches(event({ kind: 'plate', start: T0, attributes: { plate: { text: '贵F1234S' } } }), filter)).toEqual(['plate']);
    const fragment = parseQuery('贵F1', { now: new Date(T0), timeZone: 'Asia/Shanghai', places: [], windowMinutes: 30 });
    expect(nearMatches(event({ kind: 'plate', start: T0, attributes: { plate: { text: '贵F12345' } } }), fragment)).toEqual([]);
  });

  it('marks a two-wheeler whose colour asked for is only its rider\'s clothing, not a person in that colour', () => {
    for (const q of ['red motorbike', '红色摩托车', 'red scooter', 'red bicycle', 'red']) {
      const filter = words(q);
      const redBike = event({ label: 'motorcycle', start: T0, attributes: { colour: reading('red'), upper_colour: reading('blue') } });
      const redRider = event({ label: 'motorcycle', start: T0, attributes: { colour: reading('blue'), upper_colour: reading('red') } });
      const redCyclist = event({ label: 'bicycle', start: T0, attributes: { colour: reading('black'), upper_colour: reading('red') } });
      const bothRed = event({ label: 'motorcycle', start: T0, attributes: { colour: reading('red'), upper_colour: reading('red') } });
      // The store finds a runner-up reading too: a bike read "orange, else red" is red in its own right.
      const runnerUp = event({ label: 'motorcycle', start: T0, attributes: { colour: reading('orange', 'red'), upper_colour: reading('red') } });
      const person = event({ label: 'person', start: T0, attributes: { upper_colour: reading('red'), lower_colour: reading('blue') } });
      expect(nearMatches(redBike, filter), q).toEqual([]);
      expect(nearMatches(redRider, filter), q).toEqual(['rider-colour']);
      expect(nearMatches(redCyclist, filter), q).toEqual(['rider-colour']);
      expect(nearMatches(bothRed, filter), q).toEqual([]);
      expect(nearMatches(runnerUp, filter), q).toEqual([]);
      expect(nearMatches(person, filter), q).toEqual([]);
    }
    // A plate reading's vehicle_colour is the vehicle's own colour.
    expect(nearMatches(event({ kind: 'plate', label: 'motorcycle', start: T0, attributes: { plate: { text: '贵F12345' }, vehicle_colour: reading('red') } }), words('red motorbike'))).toEqual([]);
    // Asked for by part ("in a red top"), the rider's clothing is what was asked: exact.
    const redTop = words('motorbike red top');
    expect(redTop.colours).toEqual([{ colour: 'red', part: 'upper' }]);
    expect(nearMatches(event({ label: 'motorcycle', start: T0, attributes: { colour: reading('blue'), upper_colour: reading('red') } }), redTop)).toEqual([]);
    // No colour asked for: nothing is near.
    expect(nearMatches(event({ label: 'motorcycle', start: T0, attributes: { colour: reading('blue'), upper_colour: reading('red') } }), words('motorbike'))).toEqual([]);
  });
});

describe('exactMatchesFirst', () => {
  it('ranks near matches below exact ones, keeping the order within each', () => {
    const hits = [['a', ['rider-colour']], ['b', []], ['c', ['plate']], ['d', []], ['e', ['rider-colour']]].map(([id, nearMatch]) => ({ id, nearMatch: nearMatch as string[] }));
    expect(exactMatchesFirst(hits).map((h) => h.id)).toEqual(['b', 'd', 'a', 'c', 'e']);
    expect(exactMatchesFirst([])).toEqual([]);
  });
});

describe('explainColourMatches', () => {
  it('says a colour on a vehicle is its own, its rider\'s clothing a near match; nothing for people or parts', () => {
    const line = "red: the vehicle's own colour; its rider's clothing as a near match (ranked below)";
    expect(explainColourMatches(words('red motorbike'))).toEqual([line]);
    expect(explainColourMatches(words('红色摩托车'))).toEqual([line]);
    expect(explainColourMatches(words('red'))).toEqual(["red: a vehicle's own colour (its rider's clothing as a near match, ranked below), or a person's clothing"]);
    expect(explainColourMatches(words('person in red'))).toEqual([]);
    expect(explainColourMatches(words('motorbike red top'))).toEqual([]);
    expect(explainColourMatches(words('motorbike'))).toEqual([]);
  });
});

describe('relaxations', () => {
  it('offers other vehicle types, any colour, a wider time, any place', () => {
    const filter = parseQuery('white car at market 14:00', { now: new Date(T0 + 3600_000), timeZone: 'Asia/Shanghai', places: [{ kind: 'location', name: 'market', terms: ['market'] }], windowMinutes: 30 });
    const changes = relaxations(filter).map((r) => `${r.change}:${r.filter.labels.join('/')}:${r.filter.colours.length}:${r.filter.places.length}:${r.filter.time ? 't' : '-'}`);
    // Not a truck: the white car search finds white trucks itself, as near matches (LABEL_NEIGHBOURS).
    expect(changes).toContain('other-label:bus:1:1:t');
    expect(changes.filter((c) => c.startsWith('other-label:truck'))).toEqual([]);
    expect(changes).toContain('any-vehicle:car/truck/bus/motorcycle/bicycle:1:1:t');
    expect(changes).toContain('any-colour:car:0:1:t');
    expect(changes).toContain('any-time:car:1:1:-');
    expect(changes).toContain('any-place:car:1:0:t');
    const wider = relaxations(filter).find((r) => r.change === 'wider-time')!.filter.time!;
    expect(Date.parse(wider.to) - Date.parse(wider.from)).toBe(4 * 3600_000);
    // A person is not offered as a vehicle.
    expect(relaxations(parseQuery('person', { now: new Date(T0), timeZone: 'UTC', places: [], windowMinutes: 30 }))).toEqual([]);
  });
});
