import { configDefaults, defineConfig } from 'vitest/config';

// These suites start processes, private Redis servers and real workers, and provoke faults with timing
// (lock expiry, stall detection): one file at a time keeps them honest on a 2-core machine.
export default defineConfig({
  test: {
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // `vitest run` runs both; `--project fault` only the fault suite (kills, outages, restarts under load).
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
          include: ['src/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'src/fault/**'],
        },
      },
      { extends: true, test: { name: 'fault', include: ['src/fault/**/*.test.ts'], testTimeout: 120_000 } },
    ],
  },
});
