// The @troupe packages and apps as their sources, for every vitest config
// (the root one and each package's own): tests need no build.
// Exact-match patterns: a plain string key also matches `<key>/...`, which
// would send `@troupe/actor-core/testing` to `.../index.ts/testing`.
const sources: Record<string, string> = {
  '@troupe/actor-core': 'packages/actor-core/src/index.ts',
  '@troupe/actor-core/wire': 'packages/actor-core/src/wire.ts',
  '@troupe/actor-core/node-name': 'packages/actor-core/src/node-name.ts',
  '@troupe/actor-core/testing': 'packages/actor-core/src/testing/index.ts',
  '@troupe/transport-ws': 'packages/transport-ws/src/index.ts',
  '@troupe/transport-ws/testing': 'packages/transport-ws/src/testing/index.ts',
  '@troupe/registry-crdt': 'packages/registry-crdt/src/index.ts',
  '@troupe/child-process': 'packages/child-process/src/index.ts',
  '@troupe/registry-crdt/engine': 'packages/registry-crdt/src/engine.ts',
  '@troupe/persistence': 'packages/persistence/src/index.ts',
  '@troupe/persistence/sqlite': 'packages/persistence/src/stores/sqlite/index.ts',
  '@troupe/persistence/postgres': 'packages/persistence/src/stores/postgres/index.ts',
  '@troupe/persistence/testkit': 'packages/persistence/src/testkit/index.ts',
  '@troupe/persistence/testkit/postgres': 'packages/persistence/src/testkit/postgres.ts',
  '@troupe/harness': 'apps/harness/src/index.ts',
  '@troupe/gateway': 'apps/gateway/src/index.ts',
  '@troupe/observer': 'apps/observer/src/index.ts',
};

const root = new URL('./', import.meta.url);

export const sourceAliases = Object.entries(sources).map(([name, path]) => ({
  find: new RegExp(`^${name.replace(/[/]/g, '\\/')}$`),
  replacement: new URL(path, root).pathname,
}));
