// The V8 heaps of vigil's worker threads (the detector's inference workers, the plate reader). prom-client's
// nodejs_heap_* metrics describe the main thread's isolate only, and Node 20 has no Worker#getHeapStatistics,
// so each worker reports its own heap to the parent over a MessagePort of its own (the worker's message
// channel stays its request/response protocol). Reports are pushed on a timer rather than asked for at
// scrape time: a worker inside a native inference cannot answer until it is done.
import { getHeapStatistics } from 'node:v8';
import { MessageChannel, workerData, type MessagePort, type Worker } from 'node:worker_threads';

export interface WorkerHeap {
  /** The worker's module name and its number among live workers of that module: `detect-worker-1`. */
  worker: string;
  usedBytes: number;
  totalBytes: number;
}

/** What a worker module receives as workerData: its own init data and its heap channel. */
export interface WorkerEnvelope<T> {
  init: T;
  heapPort: MessagePort;
  heapReportMs: number;
}

interface HeapReport {
  usedBytes: number;
  totalBytes: number;
}

/**
 * Worker side, first thing a worker module does: starts its heap reports and returns the init data its
 * parent passed to spawnWorker.
 */
export function workerInit<T>(): T {
  const envelope = workerData as WorkerEnvelope<T>;
  reportHeap(envelope);
  return envelope.init;
}

/** Reports this isolate's heap now and every `heapReportMs`, without keeping the thread alive. */
function reportHeap(envelope: WorkerEnvelope<unknown>): void {
  const send = () => {
    const stats = getHeapStatistics();
    envelope.heapPort.postMessage({ usedBytes: stats.used_heap_size, totalBytes: stats.total_heap_size } satisfies HeapReport);
  };
  send();
  setInterval(send, envelope.heapReportMs).unref();
  envelope.heapPort.unref();
}

/** Parent side: the latest report of every live worker thread, by name. */
export class WorkerHeaps {
  private readonly live = new Map<string, HeapReport | undefined>();

  /**
   * Opens the heap channel for a worker about to be started from `module`; the returned envelope is its
   * workerData and `transfer` its transferList. Call `attach` with the started worker, or `cancel` when it
   * could not be started.
   */
  open<T>(
    module: string,
    init: T,
    heapReportMs: number,
  ): { envelope: WorkerEnvelope<T>; transfer: MessagePort[]; attach(worker: Worker): void; cancel(): void } {
    const { port1, port2 } = new MessageChannel();
    let n = 1;
    while (this.live.has(`${module}-${n}`)) n++;
    const name = `${module}-${n}`;
    this.live.set(name, undefined);
    port1.on('message', (report: HeapReport) => {
      if (this.live.has(name)) this.live.set(name, report);
    });
    port1.unref();
    const forget = () => {
      this.live.delete(name);
      port1.close();
    };
    return {
      envelope: { init, heapPort: port2, heapReportMs },
      transfer: [port2],
      attach: (worker) => {
        worker.once('exit', forget);
      },
      cancel: forget,
    };
  }

  /** Workers that have reported at least once. */
  current(): WorkerHeap[] {
    const heaps: WorkerHeap[] = [];
    for (const [worker, report] of this.live) if (report) heaps.push({ worker, ...report });
    return heaps;
  }
}

/** The process's workers: spawnWorker registers every worker it starts here. */
export const workerHeaps = new WorkerHeaps();
