// The plate reader must not keep the memory a large read needed. Its models take inputs of varying size (the
// vehicle's region, the plate's width); with onnxruntime's arena it kept whatever the largest input so far
// took, so a vehicle bigger than any before it stepped the daemon's RSS up for good (the soak's failing runs;
// docs/operations.md "Memory"). Measured in a child process of its own (a test runner's RSS is everyone's), on jemalloc
// with freed pages returned at once.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/version.js';

const run = promisify(execFile);

describe('plate reader memory', () => {
  it('gives back what frame-sized reads took once it reads small regions again', async () => {
    const { stdout: machine } = await run('uname', ['-m']);
    const jemalloc = `/usr/lib/${machine.trim()}-linux-gnu/libjemalloc.so.2`;
    expect(existsSync(jemalloc), `${jemalloc} is missing: apt-get install libjemalloc2 (the test setup installs it as root)`).toBe(true);
    const { stdout } = await run(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(PROJECT_ROOT, 'test/harness/plate-memory-probe.ts')], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, LD_PRELOAD: jemalloc, MALLOC_CONF: 'dirty_decay_ms:0,muzzy_decay_ms:0' },
      timeout: 120_000,
    });
    const { before, peak, after } = JSON.parse(stdout.trim().split('\n').pop()!) as { before: number; peak: number; after: number };
    const summary = `RSS before the large reads ${before.toFixed(1)} MB, peak ${peak.toFixed(1)} MB, after ${after.toFixed(1)} MB`;
    console.log(`plates memory: ${summary}`);
    // The frame-sized reads really needed more memory (else this test would prove nothing)...
    expect(peak - before, summary).toBeGreaterThan(15);
    // ...and most of it went back: with the arena, RSS stayed near the peak.
    expect(after - before, summary).toBeLessThan((peak - before) / 2);
  });
});
