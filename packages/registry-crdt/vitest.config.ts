import { defineConfig } from 'vitest/config';

// Packages are imported from source, so tests need no build.
export default defineConfig({
  resolve: {
    alias: {
      '@troupe/actor-core': new URL('../actor-core/src/index.ts', import.meta.url).pathname,
    },
  },
  test: { include: ['test/**/*.test.ts'], testTimeout: 20000, hookTimeout: 20000 },
});
