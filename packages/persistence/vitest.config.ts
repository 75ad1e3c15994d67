import { defineConfig } from 'vitest/config';
import { sourceAliases } from '../../vitest.aliases';

// This package's tests alone (`pnpm test` here); the root config runs everything.
export default defineConfig({
  resolve: { alias: sourceAliases },
  test: { include: ['test/**/*.test.ts'], testTimeout: 20000, hookTimeout: 20000 },
});
