import { defineConfig } from 'vitest/config';

/** `npm run soak`: the long runs kept out of `npm test` (test/soak/). */
export default defineConfig({
  test: {
    include: ['test/soak/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 900_000,
    hookTimeout: 120_000,
  },
});
