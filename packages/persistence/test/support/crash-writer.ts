// Child process for the SIGKILL test: 20 event-sourced accounts on one
// SQLite file, each deposited into one at a time; prints `ok <id> <balance>`
// after each reply, until it is killed.
import { GenServer, Node, isStarted, silentLogger } from '@troupe/actor-core';
import { eventSourced } from '../../src/index.js';
import { SqliteStore, type SqliteDurability } from '../../src/stores/sqlite/index.js';
import { account } from './account.js';

const [path, durability] = process.argv.slice(2) as [string, SqliteDurability];
const store = new SqliteStore({ path, durability });
const node = new Node({ name: 'crash@local', logger: silentLogger });
const ids = Array.from({ length: 20 }, (_, i) => String(i));
await Promise.all(
  ids.map(async (id) => {
    const r = await GenServer.start(node, eventSourced(account(), store), id);
    if (!isStarted(r)) throw new Error('start failed');
    for (;;) {
      const reply = await GenServer.call(node, r.ok, { op: 'deposit', amount: 1 });
      process.stdout.write(`ok ${id} ${reply.balance}\n`);
    }
  }),
);
