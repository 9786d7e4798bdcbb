// Reads the colours of labelled crops as the daemon would: the colour reader on the labelled box; for a
// two-wheeler, on the bike and the rider the detector joined there (a rider's clothing cannot be told from
// the bike without them).
import { frameLighting, NEUTRAL_LIGHT, objectColours, type ColourReading } from '../../src/attributes/colour.js';
import type { Detector, LabeledDetection } from '../../src/detect/detector.js';
import { iou } from '../../src/image/geometry.js';
import type { RgbImage } from '../../src/image/image.js';
import { isTwoWheeler } from '../../src/vocabulary/labels.js';
import type { ColourCrop } from './colour-eval.js';

/** `lighting: false` reads the pixels as they are (how vigil read colours before frameLighting). */
export async function readObjectColours(crops: readonly ColourCrop[], detector: Detector, lighting = true): Promise<Array<Record<string, ColourReading>>> {
  const detected = new Map<RgbImage, LabeledDetection[]>();
  const light = (picture: RgbImage) => (lighting ? frameLighting(picture) : NEUTRAL_LIGHT);
  const out: Array<Record<string, ColourReading>> = [];
  for (const crop of crops) {
    if (!isTwoWheeler(crop.label)) {
      out.push(objectColours(crop.picture, crop.box, crop.label, undefined, light(crop.picture)));
      continue;
    }
    let found = detected.get(crop.picture);
    if (!found) {
      found = (await detector.detect(crop.picture)).detections;
      detected.set(crop.picture, found);
    }
    const joined = found.filter((d) => d.parts && iou(d.box, crop.box) >= 0.3).sort((a, b) => iou(b.box, crop.box) - iou(a.box, crop.box))[0];
    out.push(objectColours(crop.picture, crop.box, crop.label, joined?.parts, light(crop.picture)));
  }
  return out;
}
