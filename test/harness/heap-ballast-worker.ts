// A worker thread for worker-heap.test.ts: grows its own V8 heap by `megabytes` when asked, so the test can
// tell the worker's heap reports from the main thread's heap.
import { parentPort } from 'node:worker_threads';
import { workerInit } from '../../src/workers/worker-heap.js';

const { megabytes } = workerInit<{ megabytes: number }>();
const ballast: number[][] = [];

parentPort!.on('message', (message: string) => {
  if (message !== 'grow') return;
  // 8192 doubles are 64 KB of heap (a packed double array): 16 of them per megabyte.
  for (let i = 0; i < megabytes * 16; i++) ballast.push(Array.from({ length: 8192 }, (_, j) => j + 0.5));
  parentPort!.postMessage('grown');
});
parentPort!.postMessage('ready');
