import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Two cores on CI: keep the pool small so broker/network tests do not starve each other.
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Which system programs are missing, decided once for every worker (and CI's requirement).
    globalSetup: ['test/helpers/system-programs-setup.ts'],
    // Suite locations let the skip report tell which suite a missing program skipped.
    includeTaskLocation: true,
    // The skip report first: reporters run in order, so it prints right before the summary.
    reporters: ['./test/helpers/skipped-programs-reporter.ts', 'default'],
  },
});
