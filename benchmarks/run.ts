// npm run bench [-- accuracy|two-wheelers|colour|detect|ingest|plates|search|pipeline|hub ...] [-- --seconds N --cameras 1,4,8 --runs N
// --pipeline-cameras 2,4,8,12,16 --pipeline-sizing
// --events N --hub-box-events N --lag-seconds S --hub-runs N --record-seconds S --record-cameras N]: runs the benchmarks and prints their tables (markdown).
import { parseArgs } from 'node:util';
import { accuracyBenchmark } from './accuracy.js';
import { colourBenchmark } from './colour.js';
import { detectBenchmark } from './detect.js';
import { hubBenchmark } from './hub.js';
import { ingestBenchmark } from './ingest.js';
import { pipelineBenchmark } from './pipeline.js';
import { platesBenchmark } from './plates.js';
import { recordBenchmark } from './record.js';
import { searchBenchmark } from './search.js';
import { twoWheelersBenchmark } from './two-wheelers.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: 'string', default: '20' },
    cameras: { type: 'string', default: '1,4,8' },
    runs: { type: 'string', default: '40' },
    'pipeline-cameras': { type: 'string', default: '2,4,8,12,16' },
    'pipeline-sizing': { type: 'boolean', default: false },
    'search-sizes': { type: 'string', default: '1000000,10000000' },
    // hub (not in the default set: it needs PostgreSQL's server binaries): events for the search shapes, the box
    // store replicated for throughput, seconds of writes per lag row, timed runs per search shape.
    events: { type: 'string', default: '10000000' },
    'hub-box-events': { type: 'string', default: '100000' },
    'lag-seconds': { type: 'string', default: '60' },
    'hub-runs': { type: 'string', default: '100' },
    // record (not in the default set: it takes several minutes): seconds per off/on CPU phase and of the disk
    // recording (at least 75 s, for the 60 s clip), cameras of street footage in the CPU table.
    'record-seconds': { type: 'string', default: '30' },
    'record-cameras': { type: 'string', default: '4' },
  },
});
const wanted = new Set(positionals.length ? positionals : ['accuracy', 'two-wheelers', 'colour', 'ingest', 'detect', 'plates', 'search', 'pipeline']);
const seconds = Number(values.seconds);
const tables: string[] = [];
if (wanted.has('accuracy')) tables.push(await accuracyBenchmark());
if (wanted.has('two-wheelers')) tables.push(await twoWheelersBenchmark());
if (wanted.has('colour')) tables.push(await colourBenchmark());
if (wanted.has('detect')) tables.push(await detectBenchmark(Number(values.runs)));
if (wanted.has('plates')) tables.push(await platesBenchmark());
if (wanted.has('search')) tables.push(await searchBenchmark(values['search-sizes'].split(',').map(Number)));
if (wanted.has('hub')) {
  tables.push(await hubBenchmark({ events: Number(values.events), boxEvents: Number(values['hub-box-events']), lagSeconds: Number(values['lag-seconds']), runs: Number(values['hub-runs']) }));
}
if (wanted.has('record')) tables.push(await recordBenchmark({ cameras: Number(values['record-cameras']), seconds: Number(values['record-seconds']) }));
if (wanted.has('ingest')) tables.push(await ingestBenchmark(values.cameras.split(',').map(Number), seconds));
if (wanted.has('pipeline')) tables.push(await pipelineBenchmark(values['pipeline-cameras'].split(',').map(Number), seconds, values['pipeline-sizing']));
console.log('\n' + tables.join('\n\n'));
