// Child process of plates-memory.test.ts: `node --expose-gc --import tsx test/harness/plate-memory-probe.ts`.
// Reads plates in small vehicle regions, then in a few frame-sized ones, then in small ones again, and prints
// the process's RSS (MB) before and after the frame-sized reads and its peak during them, as one JSON line.
// Run it on jemalloc with dirty_decay_ms:0, so memory that is freed goes back at once and RSS shows what is
// still held.
import { writeFileSync } from 'node:fs';
import type { RgbImage } from '../../src/image/image.js';
import { PlateReader } from '../../src/plates/plate-reader.js';
import { MB } from './daemon-probe.js';
import { procStatus } from './proc.js';

// Collects first (node --expose-gc): the reads leave frame-sized input and output arrays as garbage.
const rssMb = () => {
  (globalThis as { gc?: () => void }).gc?.();
  return procStatus(process.pid).rssBytes / MB;
};
const width = 1280, height = 720;
const data = new Uint8Array(width * height * 3);
// A gradient with some texture: the text detector does its ordinary work on it.
for (let i = 0; i < data.length; i++) data[i] = ((i % (width * 3)) + Math.floor(i / (width * 3)) * 7) % 256;
const image: RgbImage = { kind: 'rgb', width, height, data };

const reader = await PlateReader.create({ threads: 1 });
const readTimes = async (n: number, region: { x: number; y: number; width: number; height: number }) => {
  for (let i = 0; i < n; i++) await reader.read(image, region);
};
await readTimes(30, { x: 0, y: 0, width: 160, height: 96 });
await readTimes(30, { x: 40, y: 40, width: 224, height: 128 });
const before = rssMb();
// The peak inside a read (onnxruntime's run holds the thread, nothing can sample then) is the kernel's
// high-water mark, reset here (clear_refs 5) so that it is the large reads'.
writeFileSync('/proc/self/clear_refs', '5');
await readTimes(5, { x: 0, y: 0, width, height });
const peak = procStatus(process.pid).peakRssBytes / MB;
await readTimes(30, { x: 0, y: 0, width: 160, height: 96 });
const after = rssMb();
console.log(JSON.stringify({ before, peak, after }));
