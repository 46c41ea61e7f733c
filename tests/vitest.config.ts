import { defineConfig } from 'vitest/config';

// These suites start processes, private Redis servers and real workers, and provoke faults with timing
// (lock expiry, stall detection): one file at a time keeps them honest on a 2-core machine.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
