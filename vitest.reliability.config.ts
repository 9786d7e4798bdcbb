// The reliability suite: cameras failing in a loop, garbage input, a full disk, kill -9 under load and a
// long soak. Minutes per test, one file at a time (they load the box on purpose).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/reliability/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60 * 60_000,
    hookTimeout: 5 * 60_000,
    maxWorkers: 1,
    fileParallelism: false,
    reporters: ['default'],
  },
});
