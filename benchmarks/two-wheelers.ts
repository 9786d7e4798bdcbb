// Two-wheelers on street CCTV the models were not made on (../shared/fixtures/vehicles-dev: 145 frames, 325
// motorcycles with riders, 691 cars, trucks and buses): how many ridden bikes each model and post-processing
// finds, at what precision, what it does to four-wheelers and to walking people (the detection evaluation
// set's 301 pedestrians), and its cost per frame. Whole frames at the daemon's 640x360 detect size; scoring
// rule in test/harness/two-wheeler-eval.ts.
import { DETECTOR_DEFAULTS, type DetectorConfig } from '../src/config/schema.js';
import { Detector } from '../src/detect/detector.js';
import { add, loadEvalImages, tally, type Tally } from '../test/harness/detection-eval.js';
import { addTally, EMPTY_TALLY, loadStreetFrames, streetFigures, tallyStreet } from '../test/harness/two-wheeler-eval.js';

interface Variant {
  name: string;
  model: string;
  riders: DetectorConfig['riders'];
}

const TODAY = { join: false, bike_threshold: 0.35, rider_threshold: 0.4 };

export async function twoWheelersBenchmark(): Promise<string> {
  const frames = loadStreetFrames();
  const people = await loadEvalImages();
  const d = DETECTOR_DEFAULTS.riders;
  const variants: Variant[] = [];
  for (const model of ['nanodet-416-int8', 'nanodet-416', 'centernet-512', 'nanodet-640x384', 'nanodet-640x384-int8']) {
    variants.push({ name: 'bike and rider apart (before)', model, riders: TODAY });
    variants.push({ name: 'riders joined', model, riders: { ...d, bike_threshold: DETECTOR_DEFAULTS.score_threshold } });
    variants.push({ name: `joined, bike ≥ ${d.bike_threshold} under a rider (default)`, model, riders: d });
    // Lower still: more bikes, and pedestrians beside parked bicycles start to vanish into them.
    variants.push({ name: 'joined, bike ≥ 0.1 under a rider', model, riders: { ...d, bike_threshold: 0.1 } });
  }
  const rows: string[] = [];
  for (const v of variants) {
    const detector = await Detector.create({ ...DETECTOR_DEFAULTS, model: v.model, riders: v.riders, workers: 1, threads: 2 });
    try {
      let t = EMPTY_TALLY;
      let ms = 0;
      for (const frame of frames) {
        const t0 = performance.now();
        const { detections } = await detector.detect(frame.image);
        ms += performance.now() - t0;
        t = addTally(t, tallyStreet(detections, frame.truth));
      }
      let walkers: Tally = { tp: 0, fp: 0, fn: 0 };
      const threshold = (label: string) => DETECTOR_DEFAULTS.class_thresholds[label] ?? DETECTOR_DEFAULTS.score_threshold;
      for (const img of people) walkers = add(walkers, tally((await detector.detect(img.image)).detections, img.truth, 'person', threshold));
      const f = streetFigures(t);
      const p = (n: number) => n.toFixed(1);
      rows.push(
        `| ${v.model} | ${v.name} | ${p(f.twoWheelerRecall)} | ${p(f.twoWheelerPrecision)} | ${p(f.fourWheelerRecall)} | ${p(f.vehiclePrecision)} | ${t.ridersAsPersons} | ` +
          `${p((100 * walkers.tp) / (walkers.tp + walkers.fn))} | ${(ms / frames.length).toFixed(1)} |`,
      );
    } finally {
      await detector.close();
    }
  }
  return [
    `Two-wheelers: ${frames.length} street CCTV frames (vehicles-dev), whole frames at 640x360, default thresholds. Found: a two-wheeler detection ` +
      'with ≥ 70% of its box inside a labelled motorcycle (labels box bike and rider together); a car/truck/bus detection at IoU ≥ 0.5 with a ' +
      'labelled car/truck/bus. Precision counts detections of unlabelled vehicles as wrong (the labels miss some): a lower bound. ' +
      '"walkers": person recall on the detection evaluation set (no riders in it). ms: detect() per frame, 1 worker x 2 threads.',
    '',
    '| model | post-processing | two-wheelers found % | two-wheeler precision % | four-wheelers found % | vehicle precision % | riders left as persons | walkers found % | ms/frame |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}
