// Worker threads' heaps: each worker started with spawnWorker reports its own V8 heap, the daemon exports it
// as vigil_worker_heap_*{worker}, and a worker that has exited disappears from both.
import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { VigilMetrics } from '../../src/metrics/metrics.js';
import { spawnWorker } from '../../src/workers/spawn-worker.js';
import { workerHeaps } from '../../src/workers/worker-heap.js';
import { sample } from '../harness/daemon-process.js';
import { waitFor } from '../harness/wait.js';

const started: Worker[] = [];
async function startBallast(megabytes: number): Promise<Worker> {
  const worker = spawnWorker(import.meta.url, '../harness/heap-ballast-worker', { megabytes }, { heapReportMs: 50 });
  started.push(worker);
  const [message] = (await once(worker, 'message')) as [string];
  expect(message).toBe('ready');
  return worker;
}
const heapOf = (worker: string) => workerHeaps.current().find((h) => h.worker === worker);

afterEach(async () => {
  await Promise.all(started.splice(0).map((w) => w.terminate()));
});

describe('worker heaps', () => {
  it("reports the worker's own heap as it grows, not the main thread's", async () => {
    const worker = await startBallast(40);
    const first = (await waitFor('a first heap report', () => heapOf('heap-ballast-worker-1')))!;
    expect(first.usedBytes).toBeGreaterThan(0);
    expect(first.totalBytes).toBeGreaterThanOrEqual(first.usedBytes);
    const mainBefore = process.memoryUsage().heapUsed;
    worker.postMessage('grow');
    await once(worker, 'message');
    const grown = (await waitFor('a report with the 40 MB ballast', () => {
      const heap = heapOf('heap-ballast-worker-1')!;
      return heap.usedBytes > first.usedBytes + 35e6 ? heap : undefined;
    }))!;
    expect(grown.totalBytes).toBeGreaterThanOrEqual(grown.usedBytes);
    // The ballast lives in the worker's isolate: the main thread's heap did not take it.
    expect(process.memoryUsage().heapUsed - mainBefore).toBeLessThan(20e6);
  });

  it('numbers live workers of one module, forgets an exited one and reuses its number', async () => {
    const one = await startBallast(1);
    await startBallast(1);
    await waitFor('both workers reporting', () => heapOf('heap-ballast-worker-1') && heapOf('heap-ballast-worker-2'));
    await one.terminate();
    await waitFor('the exited worker forgotten', () => !heapOf('heap-ballast-worker-1'));
    expect(heapOf('heap-ballast-worker-2')).toBeDefined();
    await startBallast(1);
    await waitFor('a new worker under the free number', () => heapOf('heap-ballast-worker-1'));
  });

  it('exports live workers as vigil_worker_heap_* series and drops exited ones', async () => {
    const metrics = new VigilMetrics();
    metrics.setWorkerHeapSource(() => workerHeaps.current());
    const worker = await startBallast(1);
    await waitFor('a first heap report', () => heapOf('heap-ballast-worker-1'));
    const text = await metrics.text();
    const used = sample(text, 'vigil_worker_heap_used_bytes', { worker: 'heap-ballast-worker-1' });
    expect(used).toBeGreaterThan(0);
    expect(sample(text, 'vigil_worker_heap_size_bytes', { worker: 'heap-ballast-worker-1' })).toBeGreaterThanOrEqual(used!);
    await worker.terminate();
    await waitFor('the exited worker forgotten', () => !heapOf('heap-ballast-worker-1'));
    expect(sample(await metrics.text(), 'vigil_worker_heap_used_bytes', { worker: 'heap-ballast-worker-1' })).toBeUndefined();
  });
});
