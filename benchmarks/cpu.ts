// CPU accounting for benchmarks: a process and its children, read from /proc over a time window.
import { readdirSync, readFileSync } from 'node:fs';
import { readProcessCpuSeconds } from '../src/metrics/process-cpu.js';
import { sleep } from '../test/harness/wait.js';

export function childPids(pid: number): number[] {
  const pids: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (text) pids.push(...text.split(' ').map(Number));
    }
  } catch {
    // the process is gone
  }
  return pids;
}

export function treeCpu(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + (readProcessCpuSeconds(pid) ?? 0), 0);
}

/** CPU-seconds per second used by `pids()` over `seconds`; the same processes must live throughout. */
export async function measureCpu(pids: () => number[], seconds: number, during?: () => Promise<void>): Promise<number> {
  const before = pids();
  const start = treeCpu(before);
  const t0 = performance.now();
  await Promise.all([sleep(seconds * 1000), during?.()]);
  const elapsed = (performance.now() - t0) / 1000;
  const after = pids();
  if (after.join() !== before.join()) throw new Error(`processes changed during the measurement: ${before} → ${after}`);
  return (treeCpu(after) - start) / elapsed;
}
