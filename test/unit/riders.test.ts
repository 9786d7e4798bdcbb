import { describe, expect, it } from 'vitest';
import { joinRiders, ridingCost, type Candidate } from '../../src/detect/riders.js';
import type { Box } from '../../src/image/geometry.js';

const PERSON = 0;
const MOTORCYCLE = 3;
const CAR = 2;
const classes = { person: PERSON, twoWheelers: new Set([1, MOTORCYCLE]) };
const c = (classId: number, score: number, box: Box, strong = true): Candidate => ({ classId, score, box, strong });

// A head-on rider: head well above the bike, body down into it.
const rider: Box = [100, 50, 130, 130];
const bike: Box = [98, 90, 132, 160];

describe('ridingCost', () => {
  it('accepts a person sitting on a bike, and refuses one beside it, below it or standing in front of it', () => {
    expect(ridingCost(rider, bike)).toBeCloseTo(0, 5);
    expect(ridingCost([160, 50, 190, 130], bike)).toBeUndefined(); // beside
    expect(ridingCost([100, 100, 130, 180], bike)).toBeUndefined(); // head below the bike's top
    expect(ridingCost([100, 20, 130, 85], bike)).toBeUndefined(); // ends above the bike
    expect(ridingCost([100, 60, 130, 240], bike)).toBeUndefined(); // feet far below: standing in front
  });
});

describe('joinRiders', () => {
  it('makes a bike and its rider one detection labelled as the bike, boxed around both, with the parts kept', () => {
    const out = joinRiders([c(PERSON, 0.8, rider), c(MOTORCYCLE, 0.6, bike)], classes);
    expect(out).toEqual([{ classId: MOTORCYCLE, score: 0.6, box: [98, 50, 132, 160], parts: { vehicle: bike, riders: [rider] } }]);
  });

  it('keeps a person alone a person, a parked bike a bike, and a car a car', () => {
    const walker: Box = [300, 40, 330, 140];
    const parked: Box = [400, 100, 440, 150];
    const out = joinRiders([c(PERSON, 0.7, walker), c(MOTORCYCLE, 0.5, parked), c(CAR, 0.9, [500, 80, 600, 160])], classes);
    expect(out.map((d) => [d.classId, d.box, d.parts])).toEqual([
      [CAR, [500, 80, 600, 160], undefined],
      [PERSON, walker, undefined],
      [MOTORCYCLE, parked, undefined],
    ]);
  });

  it('counts a bike under its threshold only when a rider sits on it', () => {
    const ridden = joinRiders([c(PERSON, 0.8, rider), c(MOTORCYCLE, 0.2, bike, false)], classes);
    expect(ridden).toEqual([{ classId: MOTORCYCLE, score: 0.2, box: [98, 50, 132, 160], parts: { vehicle: bike, riders: [rider] } }]);
    expect(joinRiders([c(MOTORCYCLE, 0.2, bike, false)], classes)).toEqual([]);
    // A rider under the rider threshold vouches for nothing, and a weak person is never reported alone.
    expect(joinRiders([c(PERSON, 0.3, rider, false), c(MOTORCYCLE, 0.2, bike, false)], classes)).toEqual([]);
  });

  it('believes a weak bike only under the middle of its rider, and takes the best-centred of two', () => {
    // A cameraman over his tripod (skimage camera.png): he covers it, but it sits off to his side.
    const standing: Box = [5, 66, 306, 511];
    const tripod: Box = [141, 186, 337, 512];
    expect(ridingCost(standing, tripod)).toBeGreaterThan(0.3);
    expect(joinRiders([c(PERSON, 0.7, standing), c(1, 0.16, tripod, false)], classes)).toEqual([{ classId: PERSON, score: 0.7, box: standing }]);
    // The same geometry with a bike scoring over its threshold stays a ride: the model vouches for the bike.
    expect(joinRiders([c(PERSON, 0.7, standing), c(1, 0.6, tripod)], classes)[0]!.parts).toBeDefined();
    // Two weak boxes under one rider: the centred one, though it scores lower.
    const offCentre: Box = [100, 95, 150, 160];
    expect(ridingCost(rider, offCentre)).toBeLessThan(0.3);
    const out = joinRiders([c(PERSON, 0.8, rider), c(MOTORCYCLE, 0.3, offCentre, false), c(MOTORCYCLE, 0.2, bike, false)], classes);
    expect(out).toEqual([{ classId: MOTORCYCLE, score: 0.2, box: [98, 50, 132, 160], parts: { vehicle: bike, riders: [rider] } }]);
  });

  it('seats a pillion behind the rider, but not a third person, and not the rider of the bike behind', () => {
    const pillion: Box = [104, 46, 134, 128];
    const third: Box = [96, 40, 126, 125];
    const out = joinRiders([c(PERSON, 0.9, rider), c(PERSON, 0.7, pillion), c(PERSON, 0.6, third), c(MOTORCYCLE, 0.6, bike)], classes);
    const joined = out.find((d) => d.parts)!;
    expect(joined.parts!.riders).toEqual([rider, pillion]);
    expect(out.filter((d) => d.classId === PERSON).map((d) => d.box)).toEqual([third]);
  });

  it('gives each rider to the bike they sit on best when bikes queue side by side', () => {
    const bikeA: Box = [100, 90, 134, 160];
    const bikeB: Box = [126, 80, 160, 150];
    const riderA: Box = [102, 50, 132, 130];
    const riderB: Box = [128, 40, 158, 120];
    const out = joinRiders([c(PERSON, 0.8, riderA), c(PERSON, 0.8, riderB), c(MOTORCYCLE, 0.6, bikeA), c(MOTORCYCLE, 0.5, bikeB)], classes);
    expect(out.map((d) => d.parts?.riders)).toEqual([[riderA], [riderB]]);
  });
});
