// How often the plate stage reads a tracked vehicle, with the real plate worker and models: a vehicle whose
// plate is not found is read less and less often, one whose plate reads keeps the full rate, and one that comes
// closer is read at the full rate again. The frames carry simulated times, so the schedule is exact.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Picture } from '../../src/attributes/picture.js';
import { BACKOFF_MAX, GROWN, PlateReading } from '../../src/attributes/plate-reading.js';
import { PlatesSchema, TrackerSchema, type PlatesConfig } from '../../src/config/schema.js';
import type { YuvImage } from '../../src/image/image.js';
import { PlateService } from '../../src/plates/plate-service.js';
import { Tracker, type Track } from '../../src/track/tracker.js';
import { decodeFrame } from '../harness/media.js';
import { plateInFrame, renderPlate } from '../harness/synthetic-plates.js';
import { testDir } from '../harness/test-dir.js';

const W = 1280, H = 720;
const STEP_MS = 100;

let service: PlateService;
beforeAll(async () => {
  service = await PlateService.start();
}, 60_000);
afterAll(async () => {
  await service?.close();
});

/** A frame in a SharedArrayBuffer, as the camera pipeline hands it to the plate worker. */
function shared(frame: YuvImage): YuvImage {
  const data = new Uint8Array(new SharedArrayBuffer(frame.data.length));
  data.set(frame.data);
  return { ...frame, data };
}

function greyFrame(): YuvImage {
  const data = new Uint8Array(new SharedArrayBuffer((W * H * 3) / 2));
  data.fill(128);
  return { kind: 'yuv420p', width: W, height: H, data };
}

/** A synthetic blue plate pasted into a grey frame, through a JPEG and ffmpeg's yuv420p as a camera gives it. */
async function plateFrame(): Promise<{ frame: YuvImage; box: number[] }> {
  const { frame, box } = await plateInFrame(await renderPlate('贵A12345', 'blue'), { tilt: 0, blur: 0, quality: 90, width: 200 });
  const file = path.join(testDir('vigil-plate-reading-'), 'frame.png');
  writeFileSync(file, await sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } }).png().toBuffer());
  return { frame: shared(decodeFrame(file, 0, W, H)), box };
}

/** One confirmed car track at `box`, from the real tracker. */
function carTrack(box: [number, number, number, number]): Track {
  const tracker = new Tracker(TrackerSchema.parse({}), W, H);
  for (let i = 0; i < 5; i++) tracker.update([{ label: 'car', score: 0.9, box }], -1000 + i * 200);
  const track = tracker.live.find((t) => t.state === 'confirmed');
  if (!track) throw new Error('the tracker did not confirm the car');
  return track;
}

/**
 * The plate stage over the real service, counting its reads: the car is shown every STEP_MS of simulated time
 * from `from` to `to`, each read finishing before the next frame (so the worker is never busy); `box(at)` is
 * the car's box. `drive` returns the times of the reads and how many plates each found.
 */
function plateStage(config: PlatesConfig) {
  const counting = Object.create(service) as PlateService;
  let pending: Promise<unknown> | undefined;
  let now = 0;
  let reads: Array<{ at: number; found: number }> = [];
  counting.read = (image, region) => {
    const at = now;
    const p = service.read(image, region);
    if (p) pending = p.then((found) => reads.push({ at, found: found.length }));
    return p;
  };
  const stage = new PlateReading({ service: counting, config }, () => {}, (err) => { throw err; });
  return {
    async drive(track: Track, frame: YuvImage, from: number, to: number, box: (at: number) => [number, number, number, number]) {
      reads = [];
      for (now = from; now < to; now += STEP_MS) {
        track.box = box(now);
        track.lastSeen = now;
        stage.look([track], new Picture(frame), now);
        if (pending) await pending;
        pending = undefined;
      }
      return reads;
    },
  };
}

describe('plate reading schedule', () => {
  const config = PlatesSchema.parse({ min_reads: 20 }); // never done voting: the schedule alone decides
  const base = config.interval_s * 1000;

  it('reads a car whose plate is not found less and less often, up to BACKOFF_MAX × interval_s apart', async () => {
    const track = carTrack([300, 200, 700, 500]);
    const reads = await plateStage(config).drive(track, greyFrame(), 0, 30_000, () => [300, 200, 700, 500]);
    expect(reads.every((r) => r.found === 0), 'a grey frame has no plate').toBe(true);
    const gaps = reads.slice(1).map((r, i) => r.at - reads[i]!.at);
    // Each empty read doubles the wait: 2, 4, then BACKOFF_MAX times interval_s, and stays there.
    const expected: number[] = [];
    for (let gap = 2 * base, at = 0; ; gap = Math.min(gap * 2, base * BACKOFF_MAX)) {
      at += gap;
      if (at >= 30_000) break;
      expected.push(gap);
    }
    expect(gaps).toEqual(expected);
    // Without the back-off it would have been read every interval_s: 60 reads in 30 s.
    expect(reads.length).toBeLessThan(30_000 / base / 4);
  }, 120_000);

  it('reads a car whose plate reads at the full rate', async () => {
    const { frame, box } = await plateFrame();
    const around: [number, number, number, number] = [box[0]! - 150, box[1]! - 200, box[2]! + 150, box[3]! + 60];
    const track = carTrack(around);
    const reads = await plateStage(config).drive(track, frame, 0, 5_000, () => around);
    expect(reads.filter((r) => r.found > 0).length, 'reads that found the plate').toBe(reads.length);
    expect(reads.map((r) => r.at)).toEqual(Array.from({ length: 5_000 / base }, (_, i) => i * base));
  }, 120_000);

  it('reads a car at the full rate again once its box has grown by GROWN', async () => {
    const track = carTrack([300, 200, 500, 350]);
    const stage = plateStage(config);
    // Backed off over 10 s (gaps of up to BACKOFF_MAX × interval_s), then the car comes closer: 1.3× wider.
    const far = await stage.drive(track, greyFrame(), 0, 10_000, () => [300, 200, 500, 350]);
    expect(far.at(-1)!.at - far.at(-2)!.at).toBe(base * BACKOFF_MAX);
    const wider = Math.ceil(200 * (GROWN + 0.05));
    const near = await stage.drive(track, greyFrame(), 10_000, 12_000, () => [300, 200, 300 + wider, 350]);
    // Read on the first frame it is wider, and then after interval_s (its read found nothing, so 2 × interval_s).
    expect(near[0]!.at).toBe(10_000);
    expect(near[1]!.at - near[0]!.at).toBe(2 * base);
  }, 120_000);
});
