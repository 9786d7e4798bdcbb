// Colour on real vehicles and people: the hand-labelled crops of benchmarks/accuracy/colour-eval.json read as
// the daemon reads them, per part (a vehicle's body, a person's or rider's upper and lower clothing): right
// (the label or an accepted neighbour), exact, per-colour precision and recall, and the confusion matrices.
import { DETECTOR_DEFAULTS } from '../src/config/schema.js';
import { readObjectColours } from '../test/harness/colour-reading.js';
import { COLOUR_PARTS, confusionTable, loadColourCrops, perColour, scorePart } from '../test/harness/colour-eval.js';
import { Detector } from '../src/detect/detector.js';

const NAMES = { colour: 'vehicle body', upper_colour: 'upper clothing (people and riders)', lower_colour: 'lower clothing' } as const;

export async function colourBenchmark(): Promise<string> {
  const crops = await loadColourCrops();
  const detector = await Detector.create({ ...DETECTOR_DEFAULTS, workers: 1, threads: 2 });
  let readings, before;
  try {
    readings = await readObjectColours(crops, detector);
    before = await readObjectColours(crops, detector, false);
  } finally {
    await detector.close();
  }
  const out: string[] = [`Colour: ${crops.length} hand-labelled crops (benchmarks/accuracy/colour-eval.md), read as the daemon reads them; "before": without the frame's lighting undone`, ''];
  const summary: string[] = ['| part | crops | right (label or accepted neighbour) % | exact % | before: right % | before: exact % |', '|---|---:|---:|---:|---:|---:|'];
  const details: string[] = [];
  const pct = (n: number, d: number) => ((100 * n) / d).toFixed(1);
  for (const part of COLOUR_PARTS) {
    const pairs = crops.flatMap((c, i) => (c.truth[part] ? [{ truth: c.truth[part], read: readings[i]![part]?.colour }] : []));
    if (pairs.length === 0) continue;
    const s = scorePart(pairs);
    const b = scorePart(crops.flatMap((c, i) => (c.truth[part] ? [{ truth: c.truth[part], read: before[i]![part]?.colour }] : [])));
    summary.push(`| ${NAMES[part]} | ${s.scored} | ${pct(s.right, s.scored)} | ${pct(s.exact, s.scored)} | ${pct(b.right, b.scored)} | ${pct(b.exact, b.scored)} |`);
    details.push(
      '',
      `${NAMES[part]}: per colour (exact readings)`,
      '',
      '| colour | labelled | precision % | recall % |',
      '|---|---:|---:|---:|',
      ...perColour(s.confusion).map((r) => `| ${r.colour} | ${r.labelled} | ${r.precision.toFixed(0)} | ${r.recall.toFixed(0)} |`),
      '',
      ...confusionTable(s.confusion),
      '',
      `${NAMES[part]}, before:`,
      '',
      ...confusionTable(b.confusion),
    );
  }
  return [...out, ...summary, ...details].join('\n');
}
