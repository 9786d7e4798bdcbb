// Plate reading cost at one thread: detection and recognition per plate on the labelled fixture photos,
// and how many plates a second one core sustains.
import { readFileSync } from 'node:fs';
import { readImageFile } from '../src/detect/image-file.js';
import { PlateReader } from '../src/plates/plate-reader.js';
import { sharedFixture } from '../test/harness/media-paths.js';

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

export async function platesBenchmark(): Promise<string> {
  const rows = readFileSync(sharedFixture('plates/labels.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t') as [string, string]);
  const images = await Promise.all(rows.map(async ([file, truth]) => ({ truth, image: await readImageFile(sharedFixture(`plates/${file}`)) })));
  const reader = await PlateReader.create({ threads: 1 });
  const whole: number[] = [];
  const recognise: number[] = [];
  let exact = 0;
  const cpu0 = process.cpuUsage();
  for (const { truth, image } of images) {
    const t0 = performance.now();
    const plates = await reader.read(image);
    whole.push(performance.now() - t0);
    if (plates[0]?.text === truth) exact++;
    if (plates[0]) {
      const t1 = performance.now();
      await reader.readPlate(image, plates[0].box);
      recognise.push(performance.now() - t1);
    }
  }
  const cpu = process.cpuUsage(cpu0);
  await reader.close();
  const cpuPerImage = (cpu.user + cpu.system) / 1000 / images.length;
  return [
    `Plates: ${images.length} labelled photos (../shared/fixtures/plates), PP-OCRv4 det + rec, 1 thread`,
    '',
    '| exact reads | find + read, median ms per image | read a known plate box, median ms | CPU-ms per image (incl. the re-read) | plates per second on one core |',
    '|---:|---:|---:|---:|---:|',
    `| ${exact}/${images.length} (${((100 * exact) / images.length).toFixed(1)}%) | ${median(whole).toFixed(1)} | ${median(recognise).toFixed(1)} | ${cpuPerImage.toFixed(1)} | ${(1000 / median(whole)).toFixed(1)} |`,
  ].join('\n');
}
