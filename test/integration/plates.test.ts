// Plate reading on the 48 labelled real photos in ../shared/fixtures/plates (test use only; see SOURCES.md).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readImageFile } from '../../src/detect/image-file.js';
import { PlateReader } from '../../src/plates/plate-reader.js';
import { isPlate, normalisePlate } from '../../src/plates/plate-rules.js';
import { runCli } from '../harness/daemon-process.js';
import { sharedFixture } from '../harness/media-paths.js';

// Measured when the reader was written: 45 of 48 exact. Fewer is a regression.
const MEASURED_EXACT = 45;

let reader: PlateReader;
beforeAll(async () => {
  reader = await PlateReader.create();
});
afterAll(async () => reader.close());

const labels = () =>
  readFileSync(sharedFixture('plates/labels.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t') as [string, string]);

async function read(file: string) {
  return reader.read(await readImageFile(sharedFixture(`plates/${file}`)));
}

describe('PlateReader on real plate photos', () => {
  it(`reads at least ${MEASURED_EXACT} of the 48 plates exactly`, async () => {
    const misses: string[] = [];
    let exact = 0;
    for (const [file, truth] of labels()) {
      const got = (await read(file))[0]?.text ?? '';
      if (got === truth) exact++;
      else misses.push(`${file}: ${truth} read as ${got || 'nothing'}`);
    }
    console.log(`plates: ${exact}/48 exact (${((100 * exact) / 48).toFixed(1)}%); misses: ${misses.join('; ')}`);
    expect(exact).toBeGreaterThanOrEqual(MEASURED_EXACT);
  }, 120_000);

  it('reads the hard cases: 粤O police prefix, a consulate 领 plate, a two-row plate, tiny plate crops', async () => {
    expect((await read('fx_026_easypr.jpg'))[0]?.text).toBe('粤OT9048');
    const consulate = (await read('fx_044_chinese.jpg'))[0]!;
    expect(consulate.text).toBe('沪A1707领');
    expect(consulate.colour).toBe('black');
    expect((await read('fx_043_chinese.png'))[0]?.text).toBe('沪AN9241');
    // LPRNet's samples are 94×24 plate crops, read directly rather than through text detection.
    expect((await read('fx_031_lprnet.jpg'))[0]?.text).toBe('川JK0707');
  });

  it('reports per-character confidence and runners-up, and a box on the plate', async () => {
    const [plate] = await read('fx_001_easypr.jpg');
    expect(plate!.text).toBe('京H99999');
    expect(plate!.chars).toHaveLength(7);
    for (const c of plate!.chars) {
      expect(c.confidence).toBeGreaterThan(0.5);
      expect(c.alternatives.every((a) => a.confidence <= c.confidence)).toBe(true);
    }
    // boxes.tsv: centre (222, 214), 113 × 39.
    const [x1, y1, x2, y2] = plate!.box;
    expect((x1 + x2) / 2).toBeCloseTo(222, -1);
    expect((y1 + y2) / 2).toBeCloseTo(214, -1);
    expect(plate!.colour).toBe('blue');
  });
});

describe('plate rules', () => {
  it('accepts the plate shapes and removes separators', () => {
    expect(normalisePlate('贵F·12345')).toBe('贵F12345');
    for (const ok of ['贵F12345', '京AD12345', '粤OT9048', '沪A1707领', '贵A1234警']) expect(isPlate(ok), ok).toBe(true);
    for (const bad of ['贵F1234', 'AF12345', '贵112345', '贵F123456789', '贵I12345']) expect(isPlate(bad), bad).toBe(false);
  });
});

describe('vigil plates', () => {
  it('prints one JSON object per image with the text without separator, score and box', async () => {
    const files = ['fx_001_easypr.jpg', 'fx_031_lprnet.jpg'].map((f) => sharedFixture(`plates/${f}`));
    const result = await runCli(['plates', ...files, '--json']);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [path.basename(l.file), l.plates[0].text])).toEqual([['fx_001_easypr.jpg', '京H99999'], ['fx_031_lprnet.jpg', '川JK0707']]);
    expect(lines[0].plates[0]).toEqual({ text: '京H99999', score: expect.any(Number), box: [expect.any(Number), expect.any(Number), expect.any(Number), expect.any(Number)] });
    expect((await runCli(['plates'])).code).toBe(2);
  });
});
