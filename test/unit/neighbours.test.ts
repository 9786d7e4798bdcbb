// Search forgives the detector's label and colour confusions: car also finds truck, white also grey, black also
// blue, each as a near match ranked below the exact ones. The tables, the planner's use of them, the near-match
// reasons, --explain's words and the suggestions that must not repeat what the search already finds.
import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../src/events/store.js';
import { planSearch } from '../../src/events/sqlite-search.js';
import { parseQuery } from '../../src/search/query-parser.js';
import { relaxations } from '../../src/search/relaxations.js';
import { exactMatchesFirst, explainNearMatches, explainNeighbours, nearMatches } from '../../src/search/search.js';
import { COLOUR_NEIGHBOURS, colourWithNeighbours, PALETTE } from '../../src/vocabulary/colours.js';
import { LABEL_NEIGHBOURS, labelsWithNeighbours, labelGroup, VEHICLES } from '../../src/vocabulary/labels.js';

const T0 = Date.parse('2026-11-28T14:00:00+08:00');
const words = (q: string) => parseQuery(q, { now: new Date(T0), timeZone: 'Asia/Shanghai', places: [], windowMinutes: 30 });
const reading = (colour: string, alternative?: string) => ({ colour, confidence: 0.8, ...(alternative ? { alternative } : {}) });
let nextId = 1;
function event(fields: Partial<StoredEvent>): StoredEvent {
  return {
    id: nextId++, seq: nextId, kind: 'object', camera: 'market-east', location: 'market', label: 'car', score: 0.8, start: T0, end: T0 + 5000,
    box: null, path: null, zones: [], attributes: {}, frame: null, crop: null, frameSize: null, clips: [], updated: 0, ...fields,
  };
}

describe('the neighbour tables', () => {
  it('pairs car with truck only, both ways, within one tracker group', () => {
    expect(LABEL_NEIGHBOURS).toEqual({ car: ['truck'], truck: ['car'] });
    for (const [label, near] of Object.entries(LABEL_NEIGHBOURS)) {
      for (const n of near) {
        expect(LABEL_NEIGHBOURS[n], `${n} → ${label}`).toContain(label);
        expect(labelGroup(n)).toBe(labelGroup(label));
      }
    }
    expect(labelsWithNeighbours(['car'])).toEqual(['car', 'truck']);
    expect(labelsWithNeighbours(['truck'])).toEqual(['truck', 'car']);
    expect(labelsWithNeighbours(['car', 'truck'])).toEqual(['car', 'truck']);
    for (const alone of ['person', 'bus', 'motorcycle', 'bicycle']) expect(labelsWithNeighbours([alone])).toEqual([alone]);
    expect(labelsWithNeighbours([])).toEqual([]);
  });

  it('pairs white with grey (silver) and black with dark blue, both ways, and nothing else', () => {
    expect(COLOUR_NEIGHBOURS).toEqual({ white: ['grey'], grey: ['white'], blue: ['black'], black: ['blue'] });
    for (const [colour, near] of Object.entries(COLOUR_NEIGHBOURS)) {
      for (const n of near!) expect(COLOUR_NEIGHBOURS[n], `${n} → ${colour}`).toContain(colour);
    }
    expect(colourWithNeighbours('white')).toEqual(['white', 'grey']);
    expect(colourWithNeighbours('black')).toEqual(['black', 'blue']);
    // Not transitive: grey is no neighbour of black.
    expect(colourWithNeighbours('grey')).not.toContain('black');
    for (const c of PALETTE.filter((p) => !(p in COLOUR_NEIGHBOURS))) expect(colourWithNeighbours(c)).toEqual([c]);
    // Silver is grey to the parser, so "silver" finds white as a near match too.
    expect(words('silver car').colours).toEqual([{ colour: 'grey', part: 'any' }]);
    expect(words('银色轿车').colours).toEqual([{ colour: 'grey', part: 'any' }]);
  });

  it('is what the planner asks the store for', () => {
    const plan = planSearch(words('white car'), { limit: 20 });
    expect(plan.sql).toMatch(/e\.label IN \(\?, \?\)/);
    expect(plan.sql).toMatch(/\+a\.value IN \(\?, \?\)/);
    expect(plan.params.slice(0, 2)).toEqual(['car', 'truck']);
    expect(plan.params).toEqual(expect.arrayContaining(['white', 'grey']));
    const red = planSearch(words('red motorbike'), { limit: 20 });
    expect(red.params.filter((p) => typeof p === 'string' && (VEHICLES.includes(p) || PALETTE.includes(p as never)))).toEqual(['motorcycle', 'red']);
  });
});

describe('nearMatches with neighbours', () => {
  it('marks a neighbour label and a neighbour colour, alone or together', () => {
    const whiteCar = words('white car');
    expect(nearMatches(event({ attributes: { colour: reading('white') } }), whiteCar)).toEqual([]);
    expect(nearMatches(event({ attributes: { colour: reading('grey') } }), whiteCar)).toEqual(['colour']);
    expect(nearMatches(event({ label: 'truck', attributes: { colour: reading('white') } }), whiteCar)).toEqual(['label']);
    expect(nearMatches(event({ label: 'truck', attributes: { colour: reading('grey') } }), whiteCar)).toEqual(['label', 'colour']);
    // The runner-up counts as the store counts it: white, else grey is white exactly; grey, else white too.
    expect(nearMatches(event({ attributes: { colour: reading('grey', 'white') } }), whiteCar)).toEqual([]);
    // The reverse directions.
    expect(nearMatches(event({ label: 'car' }), words('truck'))).toEqual(['label']);
    expect(nearMatches(event({ label: 'truck' }), words('van'))).toEqual([]);
    expect(nearMatches(event({ attributes: { colour: reading('white') } }), words('silver car'))).toEqual(['colour']);
    expect(nearMatches(event({ attributes: { colour: reading('blue') } }), words('black car'))).toEqual(['colour']);
    expect(nearMatches(event({ attributes: { colour: reading('black') } }), words('blue car'))).toEqual(['colour']);
    // Both labels asked for: both exact. Any vehicle (车): every vehicle exact.
    expect(nearMatches(event({ label: 'truck' }), words('car or truck'))).toEqual([]);
    expect(nearMatches(event({ label: 'truck' }), words('车'))).toEqual([]);
  });

  it('applies colour neighbours to the part asked for, and to people', () => {
    const navyTop = event({ label: 'person', attributes: { upper_colour: reading('black'), lower_colour: reading('blue') } });
    expect(nearMatches(navyTop, words('blue person'))).toEqual([]); // the trousers are blue exactly
    expect(words('person in blue').colours).toEqual([{ colour: 'blue', part: 'upper' }]);
    expect(nearMatches(navyTop, words('person in blue'))).toEqual(['colour']);
    expect(nearMatches(navyTop, words('blue shirt'))).toEqual(['colour']);
    expect(nearMatches(navyTop, words('black shirt'))).toEqual([]);
    expect(nearMatches(navyTop, words('black trousers'))).toEqual(['colour']);
  });

  it('keeps the rider\'s clothing apart from the bike\'s own colour', () => {
    const greyMoto = words('grey motorbike');
    // Its own colour a neighbour: a colour near match, not the rider's.
    expect(nearMatches(event({ label: 'motorcycle', attributes: { colour: reading('white'), upper_colour: reading('grey') } }), greyMoto)).toEqual(['colour']);
    expect(nearMatches(event({ label: 'motorcycle', attributes: { colour: reading('red'), upper_colour: reading('grey') } }), greyMoto)).toEqual(['rider-colour']);
    expect(nearMatches(event({ label: 'motorcycle', attributes: { colour: reading('red'), upper_colour: reading('white') } }), greyMoto)).toEqual(['colour', 'rider-colour']);
    expect(nearMatches(event({ label: 'motorcycle', attributes: { colour: reading('grey'), upper_colour: reading('red') } }), greyMoto)).toEqual([]);
  });
});

describe('exactMatchesFirst with neighbours', () => {
  it('ranks a card off in one way above one off in two, keeping the order within each', () => {
    const hits = [['greyTruck', ['label', 'colour']], ['whiteTruck', ['label']], ['whiteCar', []], ['greyCar', ['colour']], ['rider', ['rider-colour']]]
      .map(([id, nearMatch]) => ({ id, nearMatch: nearMatch as string[] }));
    expect(exactMatchesFirst(hits).map((h) => h.id)).toEqual(['whiteCar', 'whiteTruck', 'greyCar', 'rider', 'greyTruck']);
  });
});

describe('explaining the neighbours', () => {
  it('says which labels and colours are found too, as near matches ranked below', () => {
    expect(explainNeighbours(words('white car'))).toEqual([
      'car: also trucks (SUVs, pickups, vans), as near matches ranked below',
      'white: also grey/silver, as a near match ranked below',
    ]);
    expect(explainNeighbours(words('silver truck'))).toEqual(['truck: also cars, as near matches ranked below', 'grey: also white, as a near match ranked below']);
    expect(explainNeighbours(words('黑色轿车'))).toEqual(['car: also trucks (SUVs, pickups, vans), as near matches ranked below', 'black: also blue (dark blue), as a near match ranked below']);
    expect(explainNeighbours(words('blue car'))[1]).toBe('blue: also black (dark blue read as black), as a near match ranked below');
    expect(explainNeighbours(words('car truck'))).toEqual([]);
    expect(explainNeighbours(words('red motorbike'))).toEqual([]);
    expect(explainNeighbours(words('person'))).toEqual([]);
    // With the rider's-clothing line after them.
    expect(explainNearMatches(words('white car'))).toEqual([
      'car: also trucks (SUVs, pickups, vans), as near matches ranked below',
      'white: also grey/silver, as a near match ranked below',
      "white: the vehicle's own colour; its rider's clothing as a near match (ranked below)",
    ]);
  });
});

describe('suggestions beside the neighbours', () => {
  const offered = (q: string) => relaxations(words(q)).filter((r) => r.change === 'other-label').map((r) => r.filter.labels.join('/'));

  it('never offers a label the search already finds, nor two labels that find the same', () => {
    expect(offered('white car')).toEqual(['bus', 'motorcycle', 'bicycle']);
    expect(offered('white truck')).toEqual(['bus', 'motorcycle', 'bicycle']);
    // Truck after car would find the same cars and trucks.
    expect(offered('white bus')).toEqual(['car', 'motorcycle', 'bicycle']);
    expect(offered('white motorbike')).toEqual(['car', 'bus', 'bicycle']);
  });
});
