// npm run bench [-- ingest] [-- --seconds N]: runs the benchmarks and prints their tables (markdown).
import { parseArgs } from 'node:util';
import { ingestBenchmark } from './ingest.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { seconds: { type: 'string', default: '20' }, cameras: { type: 'string', default: '1,4,8' } },
});
const wanted = new Set(positionals.length ? positionals : ['ingest']);
const seconds = Number(values.seconds);
const tables: string[] = [];
if (wanted.has('ingest')) tables.push(await ingestBenchmark(values.cameras.split(',').map(Number), seconds));
console.log('\n' + tables.join('\n\n'));
