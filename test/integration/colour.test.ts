// Colour on real footage and photos, against answers checked by eye.
import { describe, expect, it } from 'vitest';
import { objectColours } from '../../src/attributes/colour.js';
import { readImageFile } from '../../src/detect/image-file.js';
import { yuv420pToRgb } from '../../src/image/yuv.js';
import { decodeFrame } from '../harness/media.js';
import { debianMedia, sharedFixture } from '../harness/media-paths.js';

describe('colour on real images', () => {
  it('reads the red and the pale grey car in the parking-lot clip, from a yuv420p frame as the pipeline has it', () => {
    const frame = yuv420pToRgb(decodeFrame(sharedFixture('video/intel-car-detection-720p12.5.mp4'), 16, 1280, 720));
    // Boxes checked by eye at 16 s: a red saloon lower middle, a pale grey-green hatchback upper left.
    expect(objectColours(frame, [528, 362, 818, 720], 'car').colour).toMatchObject({ colour: 'red' });
    const pale = objectColours(frame, [185, 0, 435, 430], 'car').colour!;
    // Pale grey by eye; with the frame's light undone it reads white, grey's neighbour (a search for either
    // finds it), and never a colour.
    expect(['grey', 'white']).toContain(pale.colour);
  });

  it('reads the red motorcycle in the skimage photo', async () => {
    const photo = await readImageFile(debianMedia('motorcycle_left.png'));
    expect(objectColours(photo, [105, 75, 687, 453], 'motorcycle').colour).toMatchObject({ colour: 'red' });
  });
});

describe('a vehicle\'s colour and its label', () => {
  it('reads the same body colour whether the detector called it car, truck or bus', () => {
    const frame = yuv420pToRgb(decodeFrame(sharedFixture('video/intel-car-detection-720p12.5.mp4'), 16, 1280, 720));
    const box = [528, 362, 818, 720];
    const car = objectColours(frame, box, 'car').colour;
    expect(car).toMatchObject({ colour: 'red' });
    for (const label of ['truck', 'bus']) expect(objectColours(frame, box, label).colour, label).toEqual(car);
  });
});
