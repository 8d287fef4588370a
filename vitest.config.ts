import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
    setupFiles: ['test/setup-env.ts'],
    // The JSON report lets .ci/run print a plain `N passed, N failed` closing line.
    reporters: ['default', ['json', { outputFile: '.test-results/vitest.json' }]],
  },
});
