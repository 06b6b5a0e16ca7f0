import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Tests that start moto or terraform pick their own free ports and temp dirs, so files may run in parallel.
    pool: 'forks',
  },
});
