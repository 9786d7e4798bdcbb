// A page of matches as the officer sees it: the likeliest first within the time order, one card per sighting.
import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../src/events/store.js';
import { parseQuery } from '../../src/search/query-parser.js';
import { relaxations } from '../../src/search/relaxations.js';
import { groupResults } from '../../src/search/result-groups.js';
import { nearMatches } from '../../src/search/search.js';

const T0 = Date.parse('2026-11-28T14:00:00+08:00');
let nextId = 1;
function event(fields: Partial<StoredEvent> & { start: number }): StoredEvent {
  return {
    id: nextId++, seq: nextId, kind: 'object', camera: 'market-east', location: 'market', label: 'person', score: 0.8, end: fields.start + 5000,
    box: null, path: null, zones: [], attributes: {}, frame: null, crop: null, frameSize: null, updated: 0, ...fields,
  };
}

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
});

describe('relaxations', () => {
  it('offers other vehicle types, any colour, a wider time, any place', () => {
    const filter = parseQuery('white car at market 14:00', { now: new Date(T0 + 3600_000), timeZone: 'Asia/Shanghai', places: [{ kind: 'location', name: 'market', terms: ['market'] }], windowMinutes: 30 });
    const changes = relaxations(filter).map((r) => `${r.change}:${r.filter.labels.join('/')}:${r.filter.colours.length}:${r.filter.places.length}:${r.filter.time ? 't' : '-'}`);
    expect(changes).toContain('other-label:truck:1:1:t');
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
