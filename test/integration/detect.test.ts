// The detection stage on real photos and real street video, with the converted models and real workers.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DETECTOR_DEFAULTS, type DetectorConfig } from '../../src/config/schema.js';
import { Detector, DetectorBusyError, type LabeledDetection } from '../../src/detect/detector.js';
import { readImageFile } from '../../src/detect/image-file.js';
import { iou, type Box } from '../../src/image/geometry.js';
import type { Image } from '../../src/image/image.js';
import { MODELS_DIR } from '../../src/models/manifest.js';
import { runCli } from '../harness/daemon-process.js';
import { decodeFrame } from '../harness/media.js';
import { debianMedia, sharedFixture } from '../harness/media-paths.js';

const config = (overrides: Partial<DetectorConfig> = {}): DetectorConfig => ({ ...DETECTOR_DEFAULTS, ...overrides });

const yuvFrame = decodeFrame;

function best(dets: LabeledDetection[], label: string, truth: Box): number {
  return Math.max(0, ...dets.filter((d) => d.label === label).map((d) => iou(d.box, truth)));
}

// Boxes checked by eye on the photos (pixels of the image as displayed).
const PHOTOS: Array<{ file: string; label: string; truth: Box }> = [
  { file: 'messi5.jpg', label: 'person', truth: [65, 60, 460, 335] },
  { file: 'astronaut.png', label: 'person', truth: [10, 10, 370, 512] },
  { file: 'camera.png', label: 'person', truth: [0, 60, 320, 512] },
  { file: 'motorcycle_left.png', label: 'motorcycle', truth: [100, 70, 680, 455] },
];

describe('Detector', () => {
  const detectors: Record<string, Detector> = {};
  beforeAll(async () => {
    detectors.nanodet = await Detector.create(config());
    detectors.centernet = await Detector.create(config({ model: 'centernet-512' }));
  });
  afterAll(async () => {
    await Promise.all(Object.values(detectors).map((d) => d.close()));
  });

  for (const model of ['nanodet', 'centernet']) {
    it(`${model}: finds the person or vehicle in each photo where it is`, async () => {
      for (const photo of PHOTOS) {
        const image = await readImageFile(debianMedia(photo.file));
        const { detections, timings } = await detectors[model]!.detect(image);
        expect(best(detections, photo.label, photo.truth), `${photo.file}: ${JSON.stringify(detections)}`).toBeGreaterThan(0.7);
        for (const d of detections) {
          expect(d.box[0]).toBeGreaterThanOrEqual(0);
          expect(d.box[2]).toBeLessThanOrEqual(image.width);
          expect(d.box[3]).toBeLessThanOrEqual(image.height);
          expect(DETECTOR_DEFAULTS.classes).toContain(d.label);
        }
        expect(timings.inferenceMs).toBeGreaterThan(0);
      }
    });
  }

  it('finds the pedestrians in a street video frame decoded to yuv420p, and nothing on an empty road', async () => {
    const street = yuvFrame(sharedFixture('video/opencv-vtest-pedestrians-720p10.mp4'), 20, 960, 720);
    const { detections } = await detectors.nanodet!.detect(street);
    const people = detections.filter((d) => d.label === 'person');
    expect(people.length).toBeGreaterThanOrEqual(5);
    // Two walkers checked by eye in this frame.
    expect(best(people, 'person', [770, 330, 813, 463])).toBeGreaterThan(0.6);
    expect(best(people, 'person', [100, 190, 138, 271])).toBeGreaterThan(0.6);

    const road = yuvFrame(sharedFixture('video/intel-car-detection-720p12.5.mp4'), 3, 1280, 720);
    expect((await detectors.nanodet!.detect(road)).detections).toEqual([]);
    expect((await detectors.centernet!.detect(road)).detections).toEqual([]);
  });

  it('detects the same in a yuv420p frame as in the RGB photo it came from', async () => {
    const rgb = await readImageFile(debianMedia('messi5.jpg'));
    const yuv = yuvFrame(debianMedia('messi5.jpg'), 0, rgb.width, rgb.height);
    const [a, b] = await Promise.all([detectors.nanodet!.detect(rgb), detectors.nanodet!.detect(yuv)]);
    const top = (r: typeof a) => r.detections.sort((x, y) => y.score - x.score)[0]!;
    expect(iou(top(a).box, top(b).box)).toBeGreaterThan(0.9);
    expect(Math.abs(top(a).score - top(b).score)).toBeLessThan(0.1);
  });

  it('looks only inside a region and reports boxes in full-frame pixels', async () => {
    const street = yuvFrame(sharedFixture('video/opencv-vtest-pedestrians-720p10.mp4'), 20, 960, 720);
    const region = { x: 700, y: 280, width: 260, height: 260 };
    const { detections } = await detectors.nanodet!.detect(street, region);
    expect(detections.length).toBeGreaterThan(0);
    for (const d of detections) {
      expect(d.box[0]).toBeGreaterThanOrEqual(region.x);
      expect(d.box[1]).toBeGreaterThanOrEqual(region.y);
      expect(d.box[2]).toBeLessThanOrEqual(region.x + region.width);
      expect(d.box[3]).toBeLessThanOrEqual(region.y + region.height);
    }
    expect(best(detections, 'person', [770, 330, 813, 463])).toBeGreaterThan(0.6);
  });

  it('packs three regions of a frame into one inference and finds what it finds in them one by one', async () => {
    // The pedestrian fixture at the daemon's detect size; three squares the region planner could make.
    const street = yuvFrame(sharedFixture('video/opencv-vtest-pedestrians-720p10.mp4'), 20, 640, 360);
    const regions = [{ x: 0, y: 60, width: 216, height: 216 }, { x: 250, y: 100, width: 240, height: 240 }, { x: 424, y: 144, width: 216, height: 216 }];
    const packed = await Detector.create(config({ pack_regions: true }));
    const separate = await Detector.create(config({ pack_regions: false }));
    try {
      const [tiled, oneByOne] = await Promise.all([packed.detect(street, regions), separate.detect(street, regions)]);
      expect(tiled.timings.inferences).toBe(1);
      expect(oneByOne.timings.inferences).toBe(3);
      const people = (r: typeof tiled) => r.detections.filter((d) => d.label === 'person');
      console.log(`packed: ${people(tiled).length} people in 1 inference; one by one: ${people(oneByOne).length} in 3`);
      for (const d of tiled.detections) {
        // Every box lies inside one of the regions, in frame pixels.
        expect(regions.some((r) => d.box[0] >= r.x && d.box[1] >= r.y && d.box[2] <= r.x + r.width && d.box[3] <= r.y + r.height), JSON.stringify(d)).toBe(true);
      }
      // At about native scale the tiles see most of what the 2x-upscaled crops see.
      const matched = people(oneByOne).filter((d) => best(people(tiled), 'person', d.box) >= 0.5).length;
      expect(people(oneByOne).length).toBeGreaterThanOrEqual(4);
      expect(matched / people(oneByOne).length).toBeGreaterThanOrEqual(0.6);
    } finally {
      await Promise.all([packed.close(), separate.close()]);
    }
  });

  it('keeps only the configured classes', async () => {
    const detector = await Detector.create(config({ classes: ['person'] }));
    try {
      const image = await readImageFile(debianMedia('motorcycle_left.png'));
      const { detections } = await detector.detect(image);
      expect(detections.every((d) => d.label === 'person')).toBe(true);
      expect(detections.some((d) => d.label === 'motorcycle')).toBe(false);
    } finally {
      await detector.close();
    }
  });

  it('applies a class\'s own score threshold, and a camera\'s threshold over it', async () => {
    const detector = await Detector.create(config({ class_thresholds: { person: 0.99 } }));
    try {
      const image = await readImageFile(debianMedia('motorcycle_left.png'));
      const plain = (await detectors.nanodet!.detect(image)).detections;
      expect(plain.some((d) => d.label === 'motorcycle')).toBe(true);
      const strict = (await detector.detect(image)).detections;
      expect(strict.filter((d) => d.label === 'person')).toEqual([]);
      expect(strict.filter((d) => d.label === 'motorcycle')).toEqual(plain.filter((d) => d.label === 'motorcycle'));
      const messi = await readImageFile(debianMedia('messi5.jpg'));
      expect((await detector.detect(messi)).detections.filter((d) => d.label === 'person')).toEqual([]);
      expect((await detector.detect(messi, undefined, { scoreThreshold: 0.35 })).detections.some((d) => d.label === 'person')).toBe(true);
    } finally {
      await detector.close();
    }
  });

  it('refuses work beyond its queue instead of growing it', async () => {
    const detector = await Detector.create(config(), { maxQueue: 1 });
    try {
      const image: Image = await readImageFile(debianMedia('astronaut.png'));
      const results = await Promise.allSettled(Array.from({ length: 6 }, () => detector.detect(image)));
      const refused = results.filter((r) => r.status === 'rejected');
      // One runs, one waits, the other four are refused at once.
      expect(refused).toHaveLength(4);
      for (const r of refused) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(DetectorBusyError);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    } finally {
      await detector.close();
    }
  });

  it('takes a drop-in ONNX model by path and format', async () => {
    const detector = await Detector.create(config({ model: { path: path.join(MODELS_DIR, 'nanodet-416.onnx'), format: 'nanodet', input: { width: 416, height: 416 } } }));
    const fp32 = await Detector.create(config({ model: 'nanodet-416' }));
    try {
      const image = await readImageFile(debianMedia('messi5.jpg'));
      const [mine, builtin] = await Promise.all([detector.detect(image), fp32.detect(image)]);
      expect(mine.detections).toEqual(builtin.detections);
    } finally {
      await Promise.all([detector.close(), fp32.close()]);
    }
  });

  it('fails clearly on a file that is not a model', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'vigil-badmodel-')), 'broken.onnx');
    writeFileSync(file, 'not onnx');
    await expect(Detector.create(config({ model: { path: file, format: 'yolov8', input: { width: 640, height: 640 } } }))).rejects.toThrow(
      `cannot load ${file}`,
    );
  });
});

describe('vigil detect', () => {
  it('prints one JSON object per image with labels, scores and boxes in the image\'s pixels', async () => {
    const files = [debianMedia('messi5.jpg'), debianMedia('motorcycle_left.png')];
    const result = await runCli(['detect', ...files, '--json']);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.file)).toEqual(files);
    expect(lines[0].detections[0]).toEqual({
      label: 'person', score: expect.any(Number), box: [expect.any(Number), expect.any(Number), expect.any(Number), expect.any(Number)],
      color: expect.any(String), upper_color: expect.any(String), lower_color: expect.any(String),
    });
    // Messi's kit (by eye): blue-and-garnet striped shirt; "color" is the upper clothing, as DESIGN asks.
    expect(lines[0].detections[0].color).toBe(lines[0].detections[0].upper_color);
    expect(['blue', 'red', 'purple']).toContain(lines[0].detections[0].upper_color);
    expect(best(lines[0].detections, 'person', PHOTOS[0]!.truth)).toBeGreaterThan(0.7);
    expect(best(lines[1].detections, 'motorcycle', PHOTOS[3]!.truth)).toBeGreaterThan(0.7);
    // The red motorcycle (checked by eye), named red on the box the 416 model draws around all of it. The
    // 640x384 default's best box on this close-up stops short of the red fairing and reads grey: colour on
    // real footage is issue 18's.
    const square = await runCli(['detect', files[1]!, '--json', '--model', 'nanodet-416-int8']);
    expect(JSON.parse(square.stdout).detections.find((d: { label: string }) => d.label === 'motorcycle').color).toBe('red');
    const centernet = await runCli(['detect', files[1]!, '--json', '--model', 'centernet-512']);
    expect(best(JSON.parse(centernet.stdout).detections, 'motorcycle', PHOTOS[3]!.truth)).toBeGreaterThan(0.7);
  });

  it('reports an unreadable image, exits 1, and still answers for the others', async () => {
    const result = await runCli(['detect', '/nonexistent.jpg', debianMedia('astronaut.png'), '--json']);
    expect(result.code).toBe(1);
    const [bad, good] = result.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(bad).toEqual({ file: '/nonexistent.jpg', error: expect.stringContaining('cannot read image /nonexistent.jpg') });
    expect(good.detections.length).toBeGreaterThan(0);
  });

  it('exits 2 on bad arguments', async () => {
    expect((await runCli(['detect'])).code).toBe(2);
    const model = await runCli(['detect', debianMedia('astronaut.png'), '--model', 'yolo9000']);
    expect(model.code).toBe(2);
    expect(model.stderr).toContain('unknown model "yolo9000"; built-in models: nanodet-416, centernet-512, nanodet-416-int8, nanodet-320, nanodet-320-int8, nanodet-640x384, nanodet-640x384-int8');
    expect((await runCli(['detect', debianMedia('astronaut.png'), '--threshold', '3'])).code).toBe(2);
  });
});

describe('Detector shutdown', () => {
  it('closes while inferences are running without taking the process down', async () => {
    const detector = await Detector.create(config({ workers: 2 }));
    const image = await readImageFile(debianMedia('astronaut.png'));
    const running = Promise.allSettled([detector.detect(image), detector.detect(image), detector.detect(image)]);
    await new Promise((r) => setTimeout(r, 5));
    await detector.close();
    const settled = await running;
    // The two running finish; the waiting one is refused with a reason.
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(2);
    expect((settled[2] as PromiseRejectedResult).reason.message).toBe('detector closed');
    await expect(detector.detect(image)).rejects.toThrow('detector is closed');
  });
});
