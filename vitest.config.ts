import { defineConfig } from 'vitest/config';

// One run over every package, app and cross-package test. Packages are
// imported from source so tests need no build.
export default defineConfig({
  // Exact-match patterns: a plain string key also matches `<key>/...`, which
  // would send `@troupe/actor-core/testing` to `.../index.ts/testing`.
  resolve: {
    alias: [
      { find: /^@troupe\/actor-core$/, replacement: new URL('./packages/actor-core/src/index.ts', import.meta.url).pathname },
      { find: /^@troupe\/actor-core\/testing$/, replacement: new URL('./packages/actor-core/src/testing/index.ts', import.meta.url).pathname },
      { find: /^@troupe\/transport-ws$/, replacement: new URL('./packages/transport-ws/src/index.ts', import.meta.url).pathname },
      { find: /^@troupe\/registry-crdt$/, replacement: new URL('./packages/registry-crdt/src/index.ts', import.meta.url).pathname },
      { find: /^@troupe\/harness$/, replacement: new URL('./apps/harness/src/index.ts', import.meta.url).pathname },
      { find: /^@troupe\/gateway$/, replacement: new URL('./apps/gateway/src/index.ts', import.meta.url).pathname },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30000,
    hookTimeout: 30000,
  },
});
