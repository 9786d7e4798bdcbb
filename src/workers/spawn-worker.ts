// Starts one of vigil's worker threads beside the module that asks for it. Built code runs the .js file;
// under the TypeScript sources (tests, tsx) the worker is the .ts file, loaded through tsx's API, because
// loader flags in execArgv do not reach worker threads on Node 20.
import { Worker } from 'node:worker_threads';

/** `caller` is the asking module's import.meta.url; `name` the worker module's name without extension. */
export function spawnWorker(caller: string, name: string, workerData: unknown): Worker {
  const fromSource = caller.endsWith('.ts');
  const url = new URL(`./${name}${fromSource ? '.ts' : '.js'}`, caller);
  if (!fromSource) return new Worker(url, { workerData });
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}
