import { describe, expect, it } from 'vitest';
import { classify, objectColours, readColour } from '../../src/attributes/colour.js';
import { CHINESE, PALETTE } from '../../src/vocabulary/colours.js';
import type { RgbImage } from '../../src/image/image.js';

/** A W×H image filled by `paint(x, y)`, with seeded ±12 noise on every channel. */
function image(w: number, h: number, paint: (x: number, y: number) => [number, number, number]): RgbImage {
  const data = new Uint8Array(w * h * 3);
  let seed = 7;
  const noise = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 25) - 12;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [r, g, b] = paint(x, y);
      const i = (y * w + x) * 3;
      data[i] = Math.max(0, Math.min(255, r + noise()));
      data[i + 1] = Math.max(0, Math.min(255, g + noise()));
      data[i + 2] = Math.max(0, Math.min(255, b + noise()));
    }
  }
  return { kind: 'rgb', width: w, height: h, data };
}

const SAMPLES: Record<string, [number, number, number]> = {
  red: [200, 30, 35], orange: [235, 130, 30], yellow: [230, 210, 40], green: [40, 150, 60], cyan: [40, 190, 200],
  blue: [30, 60, 180], purple: [110, 40, 160], pink: [240, 150, 200], brown: [110, 70, 35], white: [235, 235, 232],
  grey: [128, 130, 132], black: [20, 20, 22],
};

describe('colour', () => {
  it('names every palette colour from a typical pixel, with Chinese names for all', () => {
    for (const [name, rgb] of Object.entries(SAMPLES)) expect(PALETTE[classify(...rgb)[0]], name).toBe(name);
    expect(Object.keys(CHINESE).sort()).toEqual([...PALETTE].sort());
    expect(CHINESE.grey).toBe('灰');
  });

  it('reads a car body under a shadow gradient, ignoring dark windows above and road below', () => {
    // 200×120 box: windows (very dark) in the top 35%, red body, grey road in the bottom 15%,
    // and a shadow darkening the body by up to 40% towards the left.
    const car = image(200, 120, (x, y) => {
      if (y < 42) return [25, 30, 35];
      if (y > 102) return [120, 120, 118];
      const shade = 0.6 + 0.4 * (x / 200);
      return [Math.round(200 * shade), Math.round(30 * shade), Math.round(35 * shade)];
    });
    const reading = objectColours(car, [0, 0, 200, 120], 'car');
    expect(reading.colour).toMatchObject({ colour: 'red' });
    expect(reading.colour!.confidence).toBeGreaterThan(0.6);
  });

  it('keeps a white van white and a silver car grey', () => {
    const white = image(100, 60, () => [238, 238, 240]);
    expect(readColour(white, [0, 0, 100, 60], 'vehicle')?.colour).toBe('white');
    const silver = image(100, 60, () => [165, 168, 172]);
    expect(readColour(silver, [0, 0, 100, 60], 'vehicle')?.colour).toBe('grey');
  });

  it("reads a person's upper and lower clothing separately", () => {
    // 60×160 person: head (skin) on top, red jacket, blue jeans, black shoes.
    const person = image(60, 160, (_x, y) => (y < 30 ? [220, 180, 150] : y < 80 ? [200, 30, 35] : y < 145 ? [30, 60, 180] : [15, 15, 15]));
    const c = objectColours(person, [0, 0, 60, 160], 'person');
    expect(c.upper_colour).toMatchObject({ colour: 'red' });
    expect(c.lower_colour).toMatchObject({ colour: 'blue' });
    expect(c.colour).toBeUndefined();
  });

  it('reads only inside the box, in image coordinates', () => {
    // A yellow taxi at (300, 100) in a green field.
    const scene = image(640, 360, (x, y) => (x >= 300 && x < 460 && y >= 100 && y < 200 ? [230, 210, 40] : [40, 150, 60]));
    expect(objectColours(scene, [300, 100, 460, 200], 'car').colour).toMatchObject({ colour: 'yellow' });
    expect(objectColours(scene, [0, 0, 200, 100], 'car').colour).toMatchObject({ colour: 'green' });
    expect(objectColours(scene, [300, 100, 460, 200], 'dog')).toEqual({});
  });

  it('says when a second colour came close', () => {
    const striped = image(100, 100, (x) => (x % 20 < 10 ? [200, 30, 35] : [30, 60, 180]));
    const r = readColour(striped, [0, 0, 100, 100], 'upper')!;
    expect(['red', 'blue']).toContain(r.colour);
    expect(r.alternative).toBe(r.colour === 'red' ? 'blue' : 'red');
  });
});

describe('colour of a ridden two-wheeler', () => {
  it('reads the bike on its own box and the rider\'s clothing on theirs', () => {
    // A rider in a blue jacket (rows 0-79) on a red scooter (rows 60-139); grey road around them.
    const rider: [number, number, number, number] = [20, 0, 60, 80];
    const bike: [number, number, number, number] = [16, 60, 64, 140];
    const scene = image(80, 140, (x, y) => {
      if (x >= 22 && x < 58 && y >= 12 && y < 62) return SAMPLES.blue!;
      if (x >= 16 && x < 64 && y >= 62) return SAMPLES.red!;
      return SAMPLES.grey!;
    });
    const joined = objectColours(scene, [16, 0, 64, 140], 'motorcycle', { vehicle: bike, riders: [rider] });
    expect(joined.colour).toMatchObject({ colour: 'red' });
    expect(joined.upper_colour).toMatchObject({ colour: 'blue' });
    // Without the parts the whole box is read as a bike, and no rider colour is claimed.
    expect(objectColours(scene, [16, 0, 64, 140], 'motorcycle').upper_colour).toBeUndefined();
  });
});
