import { defineConfig } from 'vitest/config';

// Packages are imported from source, so tests need no build.
export default defineConfig({
  resolve: {
    // Exact-match patterns: a plain string key would also capture `/testing`.
    alias: [
      { find: /^@troupe\/actor-core$/, replacement: new URL('../actor-core/src/index.ts', import.meta.url).pathname },
      { find: /^@troupe\/actor-core\/testing$/, replacement: new URL('../actor-core/src/testing/index.ts', import.meta.url).pathname },
    ],
  },
  test: { include: ['test/**/*.test.ts'], testTimeout: 20000, hookTimeout: 20000 },
});
