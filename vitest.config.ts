import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests run real ffmpeg children; two files at a time matches a 2-core box.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
