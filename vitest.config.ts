import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    // Tests fail on console output: the service logs through pino, never the console.
    setupFiles: ['test/support/no-console.ts'],
    projects: [
      {
        // Some run dbt or `dagster definitions validate` (13 s at most, measured alone); the test
        // command runs the block library's pytest beside them, sharing two cores: room for both.
        extends: true,
        test: { name: 'unit', include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'evals/**/*.test.ts'], exclude: ['test/e2e/**'], testTimeout: 60_000, hookTimeout: 120_000 },
      },
      {
        // Real Dagster processes: minutes, not seconds; one file at a time on a 2-core machine.
        extends: true,
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], testTimeout: 300_000, hookTimeout: 180_000, fileParallelism: false },
      },
    ],
  },
});
