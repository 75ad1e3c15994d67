// Event-sourced servers on a real PostgreSQL: many servers persisting at
// once (their appends share multi-row statements), recovery after a
// restart, idempotent retries, and the store refusing a second writer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallExitError, GenServer, isDownMessage, isStarted, type Node } from '@troupe/actor-core';
import { probe, testNode } from '@troupe/actor-core/testing';
import { eventSourced } from '../src/index.js';
import { PostgresStore } from '../src/stores/postgres/index.js';
import { startTempPostgres, type TempPostgres } from '../src/testkit/postgres.js';
import { account } from './support/account.js';

let pg: TempPostgres;
let store: PostgresStore;
beforeAll(async () => {
  pg = await startTempPostgres();
  store = await PostgresStore.open({ connectionString: pg.connectionString });
});
afterAll(async () => {
  await store?.close();
  await pg?.stop();
});

async function startAll(n: Node, s: PostgresStore, ids: readonly string[]) {
  return Promise.all(
    ids.map(async (id) => {
      const r = await GenServer.start(n, eventSourced(account(), s), id);
      if (!isStarted(r)) throw new Error('start failed');
      return r.ok;
    }),
  );
}

describe('event-sourced servers on PostgreSQL', () => {
  it('50 servers persisting at once all recover their state after a restart', async () => {
    const n = testNode('pg1@local');
    try {
      const ids = Array.from({ length: 50 }, (_, i) => `many-${i}`);
      const refs = await startAll(n, store, ids);
      await Promise.all(
        refs.map(async (ref, i) => {
          for (let k = 1; k <= 20; k++) expect(await GenServer.call(n, ref, { op: 'deposit', amount: i, requestId: `${i}-${k}` })).toEqual({ ok: true, balance: i * k });
        }),
      );
      await Promise.all(refs.map((r) => GenServer.stop(n, r)));
      const again = await startAll(n, store, ids);
      const balances = await Promise.all(again.map((r) => GenServer.call(n, r, { op: 'balance' })));
      expect(balances.map((b) => b.balance)).toEqual(ids.map((_, i) => i * 20));
      // A retried request after the restart is answered from the store and applies nothing.
      expect(await GenServer.call(n, again[7]!, { op: 'deposit', amount: 7, requestId: '7-3' })).toEqual({ ok: true, balance: 21 });
      expect(await GenServer.call(n, again[7]!, { op: 'balance' })).toEqual({ ok: true, balance: 140 });
    } finally {
      n.shutdown();
    }
  });

  it('two servers of one id on two connections: the second writer loses and stops', async () => {
    const n = testNode('pg2@local');
    const other = await PostgresStore.open({ connectionString: pg.connectionString });
    try {
      const [a] = await startAll(n, store, ['twin']);
      const [b] = await startAll(n, other, ['twin']);
      await GenServer.call(n, a!, { op: 'balance' });
      await GenServer.call(n, b!, { op: 'balance' });
      const p = await probe(n);
      const mon = p.ctx.monitor(b!);
      await GenServer.call(n, a!, { op: 'deposit', amount: 5 });
      await expect(GenServer.call(n, b!, { op: 'deposit', amount: 6 })).rejects.toBeInstanceOf(CallExitError);
      expect(await p.next((m) => isDownMessage(m) && m.ref.equals(mon))).toMatchObject({ reason: { persist_failed: { code: 'TROUPE_ERR_SEQ_CONFLICT' } } });
      expect((await store.journal.replay('account-twin', 1, Infinity, Infinity)).map((e) => e.event)).toEqual([{ type: 'deposited', amount: 5 }]);
    } finally {
      n.shutdown();
      await other.close();
    }
  });
});

describe('durable-state reads on PostgreSQL', () => {
  it('reads asked for at once are answered together: stored, missing and repeated ids, across statements of 500 ids', async () => {
    const ids = Array.from({ length: 700 }, (_, i) => `batch-${i}`);
    await Promise.all(ids.filter((_, i) => i % 3 !== 0).map((id, k) => store.states.upsert(id, 0, { id, k, nested: { list: [k] } }, 2)));
    // Every id asked twice in the same turn, plus ids nobody stored.
    const asked = [...ids, ...ids, 'batch-missing-a', 'batch-missing-b'];
    const got = await Promise.all(asked.map((id) => store.states.get(id)));
    for (const [i, id] of asked.entries()) {
      const n = ids.indexOf(id);
      if (n < 0 || n % 3 === 0) expect(got[i], id).toBeUndefined();
      else expect(got[i], id).toMatchObject({ revision: 1, version: 2, state: { id } });
    }
    // Two readers of one id get equal states, never the same object.
    const first = got[1]!.state;
    expect(got[701]!.state).toEqual(first);
    expect(got[701]!.state).not.toBe(first);
    // A write between reads is seen by the next one.
    await store.states.upsert('batch-1', 1, { id: 'batch-1', k: -1 }, 2);
    expect(await store.states.get('batch-1')).toMatchObject({ revision: 2, state: { k: -1 } });
  });
});
