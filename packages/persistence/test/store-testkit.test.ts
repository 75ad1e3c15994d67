// The store test kit against every built-in store. PostgreSQL is a real
// server started for this file (never skipped: without PostgreSQL installed
// the suite fails, saying how to install it).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '../src/index.js';
import { SqliteStore } from '../src/stores/sqlite/index.js';
import { PostgresStore } from '../src/stores/postgres/index.js';
import { storeTestKit } from '../src/testkit/index.js';
import { startTempPostgres } from '../src/testkit/postgres.js';

storeTestKit('MemoryStore', async () => {
  const store = new MemoryStore();
  return { store, reopen: async () => store.open() };
});

for (const [durability, writer] of [['normal', 'worker'], ['full', 'worker'], ['full', 'inline']] as const) {
  storeTestKit(`SqliteStore (${durability}, ${writer} writer)`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'troupe-sqlite-'));
    const path = join(dir, 'store.db');
    return {
      store: new SqliteStore({ path, durability, writer }),
      reopen: async () => new SqliteStore({ path, durability, writer }),
      teardown: async () => rmSync(dir, { recursive: true, force: true }),
    };
  });
}

storeTestKit('PostgresStore', async () => {
  const pg = await startTempPostgres();
  return {
    store: await PostgresStore.open({ connectionString: pg.connectionString }),
    reopen: () => PostgresStore.open({ connectionString: pg.connectionString }),
    teardown: () => pg.stop(),
  };
});
