import { defineConfig } from 'vitest/config';

// One run over every package, app and cross-package test. Packages are
// imported from source so tests need no build.
export default defineConfig({
  resolve: {
    alias: {
      '@troupe/actor-core': new URL('./packages/actor-core/src/index.ts', import.meta.url).pathname,
      '@troupe/transport-ws': new URL('./packages/transport-ws/src/index.ts', import.meta.url).pathname,
      '@troupe/registry-crdt': new URL('./packages/registry-crdt/src/index.ts', import.meta.url).pathname,
      '@troupe/harness': new URL('./apps/harness/src/index.ts', import.meta.url).pathname,
      '@troupe/gateway': new URL('./apps/gateway/src/index.ts', import.meta.url).pathname,
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30000,
    hookTimeout: 30000,
  },
});
