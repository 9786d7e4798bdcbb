// Starts one of vigil's worker threads beside the module that asks for it. Built code runs the .js file;
// under the TypeScript sources (tests, tsx) the worker is the .ts file, loaded through tsx's API, because
// loader flags in execArgv do not reach worker threads on Node 20. Every worker reports its V8 heap
// (worker-heap.ts); a worker module reads its init data with workerInit().
import { Worker } from 'node:worker_threads';
import { workerHeaps } from './worker-heap.js';

/** How often a worker reports its heap: a few times per Prometheus scrape interval, no more. */
const HEAP_REPORT_MS = 5000;

/** `caller` is the asking module's import.meta.url; `name` the worker module's name without extension. */
export function spawnWorker(caller: string, name: string, init: unknown, options: { heapReportMs?: number } = {}): Worker {
  const fromSource = caller.endsWith('.ts');
  const url = new URL(`./${name}${fromSource ? '.ts' : '.js'}`, caller);
  const channel = workerHeaps.open(name.slice(name.lastIndexOf('/') + 1), init, options.heapReportMs ?? HEAP_REPORT_MS);
  const workerOptions = { workerData: channel.envelope, transferList: channel.transfer };
  try {
    const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
    const worker = fromSource ? new Worker(bootstrap, { eval: true, ...workerOptions }) : new Worker(url, workerOptions);
    channel.attach(worker);
    return worker;
  } catch (err) {
    channel.cancel();
    throw err;
  }
}
