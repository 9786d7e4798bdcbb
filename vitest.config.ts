import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The reliability suite (test/reliability) runs for many minutes: `npm run test:reliability`.
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests run real ffmpeg children; two files at a time matches a 2-core box.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
