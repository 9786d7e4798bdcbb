// Plate reading on the labelled real photos in ../shared/fixtures/plates (the held set) and plates-dev (test use
// only; see their SOURCES.md).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readImageFile } from '../../src/detect/image-file.js';
import { PlateReader } from '../../src/plates/plate-reader.js';
import { isPlate, normalisePlate } from '../../src/plates/plate-rules.js';
import { runCli } from '../harness/daemon-process.js';
import { sharedFixture } from '../harness/media-paths.js';
import { plateInFrame, renderPlate, type PlateKind } from '../harness/synthetic-plates.js';
import type { RgbImage } from '../../src/image/image.js';
import { writeDaemonConfig } from '../harness/daemon-config.js';
import { measurePlateSet, type PlateSetResult } from '../../benchmarks/plates.js';

// Measured with `npm run bench -- plates` (issue 18): the held set (never tuned on) 46/48 exact, 95.5% of
// characters. The floors are a point under: fewer is a regression.
const HELD = { exact: 0.948, chars: 0.945 };

// The dev set (tuned on, 166 readable photos, most from 1920 px street photos at ~0.5 s each) is measured in
// full by the bench; the test reads a fixed part of it to stay quick: every fourth photo in labels.tsv order,
// plus the two-row plates (yellow, main box at most ±45° and at least 0.4 as tall as wide). Measured on that
// subset when written: DEV_MEASURED; the floors are a point under.
const DEV_MEASURED = '43/44 exact, 99.4% of characters';
const DEV = { exact: 0.967, chars: 0.984 };
const devBoxes = readFileSync(sharedFixture('plates-dev/boxes.tsv'), 'utf8').trim().split('\n').slice(1)
  .map((l) => l.split('\t')).filter((f) => f[8] === '1');
/** Main plates' widths (the longer side of the labelled box, which may be turned by ±90°). */
const devWidth = new Map(devBoxes.map((f) => [f[0]!, Math.max(Number(f[3]), Number(f[4]))] as const));
const devTwoRow = new Set(
  devBoxes.filter((f) => f[7] === 'yellow' && Math.abs(Number(f[5])) <= 45 && Number(f[4]) / Number(f[3]) >= 0.4).map((f) => f[0]!),
);
const devSubset = (file: string, row: number) => row % 4 === 0 || devTwoRow.has(file);

let reader: PlateReader;
beforeAll(async () => {
  reader = await PlateReader.create();
});
afterAll(async () => reader.close());

async function read(file: string) {
  return reader.read(await readImageFile(sharedFixture(`plates/${file}`)));
}

function report(r: PlateSetResult): string {
  return `${r.set}: ${r.exact}/${r.photos} exact, ${((100 * r.charsRight) / r.chars).toFixed(1)}% of characters; misses: ${r.misses.map((m) => `${m.file} ${m.truth} → ${m.read || 'nothing'}`).join('; ')}`;
}

describe('PlateReader on real plate photos', () => {
  it(`reads the held set (never tuned on) at ≥ ${(HELD.exact * 100).toFixed(1)}% exact, ≥ ${(HELD.chars * 100).toFixed(1)}% of characters`, async () => {
    const held = await measurePlateSet(reader, 'plates');
    console.log(report(held));
    expect(held.photos).toBe(48);
    expect(held.exact / held.photos).toBeGreaterThanOrEqual(HELD.exact);
    expect(held.charsRight / held.chars).toBeGreaterThanOrEqual(HELD.chars);
  }, 120_000);

  it(`reads a fixed quarter of the dev set at ≥ ${(DEV.exact * 100).toFixed(1)}% exact (${DEV_MEASURED}), two-row plates included, and finds every plate 90 px wide or more`, async () => {
    expect([...devTwoRow].sort()).toEqual(['dev_091_easypr.jpg', 'dev_156_easypr.jpg']);
    const dev = await measurePlateSet(reader, 'plates-dev', devSubset);
    console.log(report(dev));
    expect(dev.photos).toBeGreaterThanOrEqual(43);
    expect(dev.exact / dev.photos).toBeGreaterThanOrEqual(DEV.exact);
    expect(dev.charsRight / dev.chars).toBeGreaterThanOrEqual(DEV.chars);
    // Photos whose main plate is 90+ px wide where nothing was read on it.
    expect(dev.misses.filter((m) => !m.read && (devWidth.get(m.file) ?? 0) >= 90).map((m) => m.file)).toEqual([]);
    // The two-row plates read exactly (upper row province + letter, lower row five, joined).
    expect(dev.misses.filter((m) => devTwoRow.has(m.file))).toEqual([]);
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

describe('plates in the pipeline', () => {
  it('reads the plate of a car driving past a camera and records one voted plate event', async () => {
    const { slidingPhotoClip } = await import('../harness/media.js');
    const { startRtspServer } = await import('../harness/rtsp-process.js');
    const { startDaemonProcess } = await import('../harness/daemon-process.js');
    const { sleep } = await import('../harness/wait.js');
    const { mkdtempSync } = await import('node:fs');
    const os = await import('node:os');
    const Database = (await import('better-sqlite3')).default;
    const clip = await slidingPhotoClip(sharedFixture('plates/fx_001_easypr.jpg'));
    const server = await startRtspServer([{ name: 'gate', file: clip, fps: 25 }]);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-plates-'));
    const file = writeDaemonConfig(dir, {
      cameras: [{ name: 'checkpoint', url: server.url('gate'), location: 'north checkpoint', detect: { width: 1280, height: 720, fps: 5 } }],
      busPort: null,
      store: { flush_ms: 50 },
    });
    const daemon = await startDaemonProcess(['--config', file]);
    try {
      await sleep(14_000);
    } finally {
      expect((await daemon.stop()).code).toBe(0);
      await server.stop();
    }
    const db = new Database(path.join(dir, 'data', 'events.db'), { readonly: true });
    const plates = db.prepare("SELECT label, attributes, snapshot_crop FROM events WHERE kind = 'plate'").all() as Array<{ label: string; attributes: string; snapshot_crop: string }>;
    const indexed = db.prepare("SELECT value FROM event_attributes WHERE name = 'plate'").all();
    db.close();
    // The clip loops (8 s), so the same car may pass twice in 14 s: one plate event per pass.
    expect(plates.length).toBeGreaterThanOrEqual(1);
    expect(plates.length).toBeLessThanOrEqual(2);
    const attributes = JSON.parse(plates[0]!.attributes);
    expect(plates[0]!.label).toBe('car');
    expect(attributes.plate).toMatchObject({ text: '京H99999', colour: 'blue' });
    expect(attributes.plate.reads).toBeGreaterThanOrEqual(2);
    expect(attributes.plate.chars).toHaveLength(7);
    expect(plates[0]!.snapshot_crop).toMatch(/plate/);
    expect(indexed).toContainEqual({ value: '京H99999' });
  }, 90_000);
});

describe('PlateReader on synthetic Guizhou plates', () => {
  const PLATES: Array<[string, PlateKind]> = [
    ['贵A12345', 'blue'], ['贵FD5678', 'blue'], ['贵B0Q6S1', 'blue'],
    ['贵C8B2Z0', 'yellow'], ['贵AD12345', 'green'], ['贵A56789', 'two-row'],
  ];

  it('reads blue, yellow, green and two-row plates in a frame, tilted, blurred and JPEG-compressed', async () => {
    const mild = { tilt: 3, blur: 0.8, quality: 45, width: 160 };
    const hard = { tilt: -5, blur: 1.2, quality: 35, width: 130 };
    let hardExact = 0;
    for (const [text, kind] of PLATES) {
      const png = await renderPlate(text, kind);
      const clean = await plateInFrame(png, mild);
      const [plate] = await reader.read(clean.frame);
      expect(plate?.text, `${kind} ${text}`).toBe(text);
      // The box found is the plate pasted into the frame.
      expect(plate!.box[0]).toBeGreaterThan(clean.box[0]! - 15);
      expect(plate!.box[2]).toBeLessThan(clean.box[2]! + 15);
      const worse = await plateInFrame(png, hard, 200, 150);
      const [reading] = await reader.read(worse.frame);
      if (reading?.text === text) hardExact++;
      else {
        // A miss may only be a confusable pair, with the truth among that character's runners-up.
        expect(reading, `${kind} ${text} unreadable when degraded`).toBeDefined();
        const wrong = [...reading!.text].map((c, i) => [c, [...text][i], i] as const).filter(([c, t]) => c !== t);
        expect(wrong, `${kind} ${text} read as ${reading!.text}`).toHaveLength(1);
        const [, truth, i] = wrong[0]!;
        expect(reading!.chars[i]!.alternatives.map((a) => a.char)).toContain(truth);
      }
    }
    // Measured when written: 5 of 6 exact at the hard degradation (贵B0Q6S1 → S read as 5, S the runner-up).
    expect(hardExact).toBeGreaterThanOrEqual(5);
    expect(await colourOf(await plateInFrame(await renderPlate('贵C8B2Z0', 'yellow'), mild))).toBe('yellow');
  }, 60_000);

  async function colourOf(p: { frame: RgbImage }): Promise<string | null> {
    return (await reader.read(p.frame))[0]?.colour ?? null;
  }
});
