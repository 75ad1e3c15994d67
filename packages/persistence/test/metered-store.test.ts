import { afterEach, expect, it } from 'vitest';
import { GenServer, formatPrometheus, isStarted, type Node } from '@troupe/actor-core';
import { testNode } from '@troupe/actor-core/testing';
import { MemoryStore, SequenceConflictError, eventSourced, meteredStore } from '../src/index.js';
import { account } from './support/account.js';

let node: Node | undefined;
afterEach(() => node?.shutdown());

const sample = (text: string, line: string): number => {
  const m = new RegExp(`^${line.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text);
  if (m === null) throw new Error(`no sample ${line} in\n${text}`);
  return Number(m[1]);
};

it('counts an event-sourced server’s appends, conflicts and state upserts with their time, in the Prometheus text', async () => {
  node = testNode('metered@local');
  const store = meteredStore(new MemoryStore());
  const r = await GenServer.start(node, eventSourced(account(), { journal: store.journal }), 'a');
  if (!isStarted(r)) throw new Error('not started');
  for (let i = 0; i < 3; i++) await GenServer.call(node, r.ok, { op: 'deposit', amount: 10 });
  expect(await GenServer.call(node, r.ok, { op: 'balance' })).toEqual({ ok: true, balance: 30 });
  // Another writer at a stale position: refused by the store, counted as a conflict.
  await expect(store.journal.append({ id: 'account-a', expectedSeq: 1, events: [{ event: { type: 'deposited', amount: 1 }, version: 1 }] })).rejects.toBeInstanceOf(SequenceConflictError);
  await store.states.upsert('s', 0, { n: 1 }, 1);

  const text = formatPrometheus(store.metrics());
  expect(sample(text, 'troupe_store_writes_total{kind="journal",outcome="ok"}')).toBe(3);
  expect(sample(text, 'troupe_store_writes_total{kind="journal",outcome="conflict"}')).toBe(1);
  expect(sample(text, 'troupe_store_writes_total{kind="journal",outcome="error"}')).toBe(0);
  expect(sample(text, 'troupe_store_writes_total{kind="state",outcome="ok"}')).toBe(1);
  expect(sample(text, 'troupe_store_write_seconds_total{kind="journal"}')).toBeGreaterThan(0);
  expect(sample(text, 'troupe_store_writes_in_flight{kind="journal"}')).toBe(0);
  expect(text).toContain('# TYPE troupe_store_writes_total counter');
  await store.close();
});
