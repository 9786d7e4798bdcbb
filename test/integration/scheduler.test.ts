// The fair detection scheduler with the real detector: a burst from three cameras.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DETECTOR_DEFAULTS } from '../../src/config/schema.js';
import { Detector } from '../../src/detect/detector.js';
import { readImageFile } from '../../src/detect/image-file.js';
import type { YuvImage } from '../../src/image/image.js';
import { DetectionScheduler, type DetectionOutcome } from '../../src/pipeline/detection-scheduler.js';
import { debianMedia } from '../harness/media-paths.js';
import { waitFor } from '../harness/wait.js';

let detector: Detector;
beforeAll(async () => {
  detector = await Detector.create({ ...DETECTOR_DEFAULTS });
});
afterAll(async () => detector.close());

describe('DetectionScheduler', () => {
  it('under a burst keeps the newest frame per camera, serves every camera, in order, and bounds its queue', async () => {
    const rgb = await readImageFile(debianMedia('astronaut.png'));
    // A grey yuv420p frame of the photo's size is enough here: what matters is who gets served when.
    const image: YuvImage = { kind: 'yuv420p', width: rgb.width, height: rgb.height, data: new Uint8Array((rgb.width * rgb.height * 3) / 2).fill(128) };
    const dropped: string[] = [];
    const scheduler = new DetectionScheduler(detector, 1, { dropped: (camera) => dropped.push(camera) });
    const outcomes: DetectionOutcome[] = [];
    let maxDepth = 0;
    for (let i = 0; i < 10; i++) {
      for (const camera of ['a', 'b', 'c']) {
        scheduler.submit({ camera, image, regions: [{ x: 0, y: 0, width: 256, height: 256 }], capturedAt: i }, (o) => outcomes.push(o));
        maxDepth = Math.max(maxDepth, scheduler.depth);
      }
    }
    await waitFor('the burst to drain', () => scheduler.depth === 0 && scheduler.utilisation === 0, 20_000, 20);
    expect(maxDepth).toBeLessThanOrEqual(3);
    expect(outcomes.length + dropped.length).toBe(30);
    // The first frame of camera a went straight to the detector; then each camera's newest frame waited.
    expect(outcomes.map((o) => `${o.job.camera}${o.job.capturedAt}`)).toEqual(['a0', 'b9', 'c9', 'a9']);
    expect(dropped.filter((c) => c === 'b')).toHaveLength(9);
    for (const o of outcomes) expect(o.error).toBeUndefined();
  });

  it('when saturated serves the camera waiting longest, however often the others submit', async () => {
    const image: YuvImage = { kind: 'yuv420p', width: 320, height: 180, data: new Uint8Array(320 * 270).fill(128) };
    const served: Record<string, number> = { busy: 0, a: 0, b: 0, c: 0 };
    const intervals: number[] = [];
    const scheduler = new DetectionScheduler(detector, 1, { served: (_, s) => s !== undefined && intervals.push(s) });
    let stop = false;
    // Each camera submits its next frame as soon as its last one is back: the detector is never idle.
    const loop = (camera: string, capturedAt = 0) => {
      if (stop) return;
      scheduler.submit({ camera, image, regions: [{ x: 0, y: 0, width: 180, height: 180 }], capturedAt }, () => {
        served[camera]!++;
        loop(camera, capturedAt + 1);
      });
    };
    for (const camera of Object.keys(served)) loop(camera);
    // And one camera floods it with frames between its turns as well.
    const flood = setInterval(() => scheduler.submit({ camera: 'busy', image, regions: [], capturedAt: -1 }, () => served.busy!++), 2);
    await waitFor('40 detections', () => Object.values(served).reduce((a, b) => a + b, 0) >= 40, 20_000, 10);
    stop = true;
    clearInterval(flood);
    await waitFor('the scheduler to drain', () => scheduler.depth === 0 && scheduler.utilisation === 0, 20_000, 10);
    const counts = Object.values(served);
    expect(Math.max(...counts) - Math.min(...counts), JSON.stringify(served)).toBeLessThanOrEqual(1);
    expect(intervals.length).toBeGreaterThan(30);
  });
});
