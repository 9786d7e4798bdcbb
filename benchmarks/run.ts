// npm run bench [-- detect|ingest ...] [-- --seconds N --cameras 1,4,8 --runs N]: runs the benchmarks and
// prints their tables (markdown).
import { parseArgs } from 'node:util';
import { detectBenchmark } from './detect.js';
import { ingestBenchmark } from './ingest.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: 'string', default: '20' },
    cameras: { type: 'string', default: '1,4,8' },
    runs: { type: 'string', default: '40' },
  },
});
const wanted = new Set(positionals.length ? positionals : ['ingest', 'detect']);
const seconds = Number(values.seconds);
const tables: string[] = [];
if (wanted.has('detect')) tables.push(await detectBenchmark(Number(values.runs)));
if (wanted.has('ingest')) tables.push(await ingestBenchmark(values.cameras.split(',').map(Number), seconds));
console.log('\n' + tables.join('\n\n'));
