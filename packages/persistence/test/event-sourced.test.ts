import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CallExitError, GenServer, Supervisor, isDownMessage, isStarted, type Node, type ServerRef } from '@troupe/actor-core';
import { probe, testNode, until } from '@troupe/actor-core/testing';
import {
  MemoryStore,
  SequenceConflictError,
  StoreError,
  eventSourced,
  setMaxConcurrentRecoveries,
  type EventSourcedBehaviour,
  type EventSourcedOptions,
  type EventSourcedState,
  type Journal,
} from '../src/index.js';
import { SqliteStore } from '../src/stores/sqlite/index.js';
import { account, type Account, type AccountCmd, type AccountReply } from './support/account.js';
import { GatedJournal } from './support/gated-journal.js';

let nodes: Node[] = [];
const cleanups: (() => void | Promise<void>)[] = [];
function node(): Node {
  const n = testNode(`es${nodes.length}@local`);
  nodes.push(n);
  return n;
}
afterEach(async () => {
  for (const n of nodes) n.shutdown();
  nodes = [];
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(n: Node, opts: EventSourcedOptions, id = 'a', log?: string[]): Promise<ServerRef<AccountCmd, never, AccountReply>> {
  const r = await GenServer.start(n, eventSourced(account(log), opts), id);
  if (!isStarted(r)) throw new Error(`start failed: ${JSON.stringify(r)}`);
  return r.ok;
}

function sqlitePath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-es-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'store.db');
}

describe('event-sourced server: persist, reply, recover', () => {
  it('replies after persisting and rebuilds the same state after a restart', async () => {
    const n = node();
    const store = new MemoryStore();
    const ref = await start(n, { journal: store.journal });
    expect(await GenServer.call(n, ref, { op: 'deposit', amount: 100 })).toEqual({ ok: true, balance: 100 });
    expect(await GenServer.call(n, ref, { op: 'withdraw', amount: 30 })).toEqual({ ok: true, balance: 70 });
    expect(await GenServer.call(n, ref, { op: 'withdraw', amount: 500 })).toEqual({ ok: false, error: 'insufficient_funds', balance: 70 });
    await GenServer.stop(n, ref);
    const again = await start(n, { journal: store.journal });
    expect(await GenServer.call(n, again, { op: 'balance' })).toEqual({ ok: true, balance: 70 });
    const st = await GenServer.getState<EventSourcedState<Account>>(n, again);
    expect(st).toMatchObject({ id: 'account-a', seq: 2, state: { balance: 70, applied: 2 } });
    expect(await store.journal.highestSeq('account-a')).toBe(2);
  });

  it('survives a process restart on SQLite (a new store over the same file)', async () => {
    const path = sqlitePath();
    const n = node();
    const s1 = new SqliteStore({ path });
    const ref = await start(n, { journal: s1.journal });
    for (let i = 1; i <= 10; i++) await GenServer.call(n, ref, { op: 'deposit', amount: i });
    await GenServer.stop(n, ref);
    await s1.close();
    const s2 = new SqliteStore({ path });
    cleanups.push(() => s2.close());
    const again = await start(n, { journal: s2.journal });
    expect(await GenServer.call(n, again, { op: 'balance' })).toEqual({ ok: true, balance: 55 });
  });

  it('sends the reply only once the write is durable; commands arriving meanwhile wait in order', async () => {
    const n = node();
    const log: string[] = [];
    const j = new GatedJournal(new MemoryStore().journal);
    const ref = await start(n, { journal: j }, 'a', log);
    await GenServer.call(n, ref, { op: 'balance' }); // recovered
    j.holdAppends = true;
    const order: string[] = [];
    const c1 = GenServer.call(n, ref, { op: 'deposit', amount: 1 }).then((r) => order.push(`1:${JSON.stringify(r)}`));
    const c2 = GenServer.call(n, ref, { op: 'deposit', amount: 2 }).then((r) => order.push(`2:${JSON.stringify(r)}`));
    const c3 = GenServer.call(n, ref, { op: 'balance' }).then((r) => order.push(`3:${JSON.stringify(r)}`));
    await j.waitHeld(1);
    // The first write is held: no reply yet, and the next commands have not run.
    expect(order).toEqual([]);
    expect(log).toEqual(['balance', 'deposit:1']);
    j.holdAppends = false;
    j.releaseAll();
    await Promise.all([c1, c2, c3]);
    expect(order).toEqual(['1:{"ok":true,"balance":1}', '2:{"ok":true,"balance":3}', '3:{"ok":true,"balance":3}']);
    expect(log).toEqual(['balance', 'deposit:1', 'deposit:2', 'balance']);
  });

  it('a command with no events answers without writing', async () => {
    const n = node();
    const j = new GatedJournal(new MemoryStore().journal);
    const ref = await start(n, { journal: j });
    await GenServer.call(n, ref, { op: 'balance' });
    await GenServer.call(n, ref, { op: 'withdraw', amount: 5 });
    expect(j.appends).toEqual([]);
  });

  it('a failed write stops the server on its old state; its supervisor restarts it and it replays what was stored', async () => {
    const n = node();
    const store = new MemoryStore();
    const j = new GatedJournal(store.journal);
    const sup = await Supervisor.start(n, { strategy: 'one_for_one', intensity: 5, period: 5 }, [
      { id: 'acct', start: (s) => GenServer.startLink(s, eventSourced(account(), { journal: j }), 'a', { name: 'acct' }) },
    ]);
    if (!isStarted(sup)) throw new Error('no supervisor');
    const p = await probe(n);
    await GenServer.call(n, 'acct', { op: 'deposit', amount: 10 });
    const first = n.whereis('acct')!;
    const mon = p.ctx.monitor(first);
    j.failNext = new StoreError('disk on fire');
    const err = await GenServer.call(n, 'acct', { op: 'deposit', amount: 5 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CallExitError);
    const down = await p.next((m) => isDownMessage(m) && m.ref.equals(mon));
    expect(down).toMatchObject({ reason: { persist_failed: { id: 'account-a', code: 'TROUPE_ERR_STORE', message: 'disk on fire' } } });
    // Restarted under the same name, on the stored events only.
    await until(() => n.whereis('acct') !== undefined && !n.whereis('acct')!.equals(first), 3000, 'the restart');
    expect(await GenServer.call(n, 'acct', { op: 'balance' })).toEqual({ ok: true, balance: 10 });
    await Supervisor.stop(n, sup.ok);
  });

  it('two servers of one id (split brain): the second writer loses with a sequence conflict and stops', async () => {
    const n = node();
    const store = new MemoryStore();
    const a = await start(n, { journal: store.journal });
    const b = await start(n, { journal: store.open().journal });
    await GenServer.call(n, a, { op: 'balance' });
    await GenServer.call(n, b, { op: 'balance' });
    const p = await probe(n);
    const mon = p.ctx.monitor(b);
    expect(await GenServer.call(n, a, { op: 'deposit', amount: 1 })).toEqual({ ok: true, balance: 1 });
    await expect(GenServer.call(n, b, { op: 'deposit', amount: 2 })).rejects.toBeInstanceOf(CallExitError);
    expect(await p.next((m) => isDownMessage(m) && m.ref.equals(mon))).toMatchObject({ reason: { persist_failed: { code: new SequenceConflictError('x', 0).code } } });
    expect((await store.journal.replay('account-a', 1, Infinity, Infinity)).map((e) => e.event)).toEqual([{ type: 'deposited', amount: 1 }]);
  });

  it('a throwing event handler crashes the command before anything is written', async () => {
    const n = node();
    const store = new MemoryStore();
    const bad: EventSourcedBehaviour<number, string, string, number> = {
      persistenceId: () => 'bad',
      initialState: () => 0,
      handleCommand: (c) => ({ events: [c], reply: 1 }),
      handleEvent: (s, e) => {
        if (e === 'boom') throw new Error('cannot apply');
        return s + 1;
      },
    };
    const r = await GenServer.start(n, eventSourced(bad, { journal: store.journal }), 'x');
    if (!isStarted(r)) throw new Error('start');
    await GenServer.call(n, r.ok, 'ok');
    await expect(GenServer.call(n, r.ok, 'boom')).rejects.toBeInstanceOf(CallExitError);
    expect(await store.journal.highestSeq('bad')).toBe(1);
  });
});

describe('event-sourced server: recovery next to another writer', () => {
  const deposit = (amount: number) => ({ event: { type: 'deposited', amount }, version: 1 });

  it('events another writer appends while this one replays are never taken for deleted ones: the stale copy stops at its next write', async () => {
    const n = node();
    const store = new MemoryStore();
    await store.journal.append({ id: 'account-a', expectedSeq: 0, events: [deposit(60), deposit(40)] });
    // The other side of a netsplit appends right after this copy's replay has read its page.
    let raced = false;
    const journal: Journal = Object.create(store.journal) as Journal;
    journal.replay = async (id, from, to, max) => {
      const page = await store.journal.replay(id, from, to, max);
      if (!raced) {
        raced = true;
        await store.journal.append({ id, expectedSeq: 2, events: [deposit(1000)] });
      }
      return page;
    };
    const ref = await start(n, { journal });
    // Its state lacks the other writer's deposit, so its write must lose, never land on top of it.
    await expect(GenServer.call(n, ref, { op: 'deposit', amount: 5 })).rejects.toBeInstanceOf(CallExitError);
    expect((await store.journal.replay('account-a', 1, Infinity, 10)).map((e) => e.event)).toEqual([deposit(60), deposit(40), deposit(1000)].map((e) => e.event));
    const again = await start(n, { journal: store.journal });
    expect(await GenServer.call(n, again, { op: 'deposit', amount: 5 })).toEqual({ ok: true, balance: 1105 });
  });

  it('events deleted with no snapshot after them: numbering continues after the highest', async () => {
    const n = node();
    const store = new MemoryStore();
    await store.journal.append({ id: 'account-a', expectedSeq: 0, events: [deposit(1), deposit(2), deposit(3)] });
    await store.journal.deleteTo('account-a', 3);
    const ref = await start(n, { journal: store.journal });
    expect(await GenServer.call(n, ref, { op: 'deposit', amount: 5 })).toEqual({ ok: true, balance: 5 });
    expect(await store.journal.highestSeq('account-a')).toBe(4);
  });
});

describe('event-sourced server: snapshots', () => {
  it('snapshots every N events, keeps K, and recovers from the latest plus the events after it', async () => {
    const n = node();
    const store = new MemoryStore();
    const j = new GatedJournal(store.journal);
    const opts = { journal: j, snapshots: store.snapshots, snapshotEvery: 10, keepSnapshots: 2 };
    const ref = await start(n, opts);
    for (let i = 0; i < 35; i++) await GenServer.call(n, ref, { op: 'deposit', amount: 1 });
    await GenServer.stop(n, ref);
    const seqs: number[] = [];
    for (let s = 0; s <= 35; s++) if ((await store.snapshots.latest('account-a', { minSeq: s, maxSeq: s })) !== undefined) seqs.push(s);
    expect(seqs).toEqual([20, 30]);
    j.replayCalls.length = 0;
    const again = await start(n, opts);
    expect(await GenServer.call(n, again, { op: 'balance' })).toEqual({ ok: true, balance: 35 });
    expect(j.replayCalls).toEqual([{ id: 'account-a', from: 31 }]);
    // applied counts events folded since the snapshot's state: 30 in the snapshot + 5 replayed.
    expect((await GenServer.getState<EventSourcedState<Account>>(n, again)).state.applied).toBe(35);
  });

  it('an unreadable snapshot falls back to a full replay when snapshots are optional, and fails recovery otherwise', async () => {
    const path = sqlitePath();
    const n = node();
    const s1 = new SqliteStore({ path });
    const opts = { journal: s1.journal, snapshots: s1.snapshots, snapshotEvery: 5 };
    const ref = await start(n, opts);
    for (let i = 0; i < 7; i++) await GenServer.call(n, ref, { op: 'deposit', amount: 2 });
    await GenServer.stop(n, ref);
    await s1.close();
    const raw = new Database(path);
    expect(raw.prepare('UPDATE troupe_snapshots SET payload = ? WHERE id = ?').run(Buffer.from([0xc1, 0xc1, 0xc1]), 'account-a').changes).toBe(1);
    raw.close();
    const s2 = new SqliteStore({ path });
    cleanups.push(() => s2.close());
    // Not optional: recovery crashes the server with the decode error.
    const p = await probe(n);
    const strict = await start(n, { journal: s2.journal, snapshots: s2.snapshots, snapshotEvery: 5 });
    const mon = p.ctx.monitor(strict);
    const down = await p.next((m) => isDownMessage(m) && m.ref.equals(mon));
    expect(JSON.stringify(down)).toContain('cannot decode stored record 5');
    const lenient = await start(n, { journal: s2.journal, snapshots: s2.snapshots, snapshotEvery: 5, snapshotIsOptional: true });
    expect(await GenServer.call(n, lenient, { op: 'balance' })).toEqual({ ok: true, balance: 14 });
  });
});

describe('event-sourced server: bounded recovery', () => {
  it('recovers at most M servers of a node at once; the others wait their turn', async () => {
    const n = node();
    setMaxConcurrentRecoveries(n, 3);
    const store = new MemoryStore();
    for (let i = 0; i < 12; i++) await store.journal.append({ id: `account-${i}`, expectedSeq: 0, events: [{ event: { type: 'deposited', amount: i }, version: 1 }] });
    const j = new GatedJournal(store.journal);
    j.holdReplays = true;
    const refs = await Promise.all(Array.from({ length: 12 }, (_, i) => start(n, { journal: j }, String(i))));
    const answers = Promise.all(refs.map((r) => GenServer.call(n, r, { op: 'balance' })));
    await j.waitHeld(3);
    expect(j.heldCount).toBe(3);
    while (j.replayCalls.length < 12 || j.heldCount > 0) {
      if (!j.releaseOneReplay()) await new Promise((r) => setTimeout(r, 1));
    }
    expect((await answers).map((a) => a.balance)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(j.maxReplaysAtOnce).toBe(3);
  });

  it('a replay that stalls past the per-event timeout fails recovery with RecoveryTimeoutError', async () => {
    const n = node();
    const j = new GatedJournal(new MemoryStore().journal);
    j.holdReplays = true;
    const p = await probe(n);
    const ref = await start(n, { journal: j, recoveryEventTimeoutMs: 50 });
    const mon = p.ctx.monitor(ref);
    const down = await p.next((m) => isDownMessage(m) && m.ref.equals(mon));
    expect(JSON.stringify(down)).toContain('TROUPE_ERR_RECOVERY_TIMEOUT');
    j.releaseAll();
  });
});

describe('event-sourced server: idempotent commands', () => {
  it('a retried message id gets the stored reply and changes nothing, also after a restart', async () => {
    const n = node();
    const store = new MemoryStore();
    const log: string[] = [];
    const ref = await start(n, { journal: store.journal }, 'a', log);
    const first = await GenServer.call(n, ref, { op: 'deposit', amount: 50, requestId: 'r1' });
    await GenServer.call(n, ref, { op: 'deposit', amount: 1 });
    expect(await GenServer.call(n, ref, { op: 'deposit', amount: 50, requestId: 'r1' })).toEqual(first);
    expect(log.filter((l) => l === 'deposit:50')).toHaveLength(1);
    await GenServer.stop(n, ref);
    const again = await start(n, { journal: store.journal }, 'a', log);
    expect(await GenServer.call(n, again, { op: 'deposit', amount: 50, requestId: 'r1' })).toEqual({ ok: true, balance: 50 });
    expect(await GenServer.call(n, again, { op: 'balance' })).toEqual({ ok: true, balance: 51 });
    expect(log.filter((l) => l === 'deposit:50')).toHaveLength(1);
  });

  it('stores the id with a command that wrote no events (a refused withdrawal stays refused)', async () => {
    const n = node();
    const store = new MemoryStore();
    const ref = await start(n, { journal: store.journal });
    expect(await GenServer.call(n, ref, { op: 'withdraw', amount: 5, requestId: 'w1' })).toMatchObject({ ok: false });
    await GenServer.call(n, ref, { op: 'deposit', amount: 10 });
    await GenServer.stop(n, ref);
    const again = await start(n, { journal: store.journal });
    expect(await GenServer.call(n, again, { op: 'withdraw', amount: 5, requestId: 'w1' })).toEqual({ ok: false, error: 'insufficient_funds', balance: 0 });
    expect(await GenServer.call(n, again, { op: 'balance' })).toEqual({ ok: true, balance: 10 });
  });

  it('forgets ids beyond the retained count and older than the retained age', async () => {
    const n = node();
    const store = new MemoryStore();
    let now = 1_000_000;
    const opts = { journal: store.journal, processedIds: { count: 3, maxAgeMs: 10_000 }, clock: () => now };
    const ref = await start(n, opts);
    for (let i = 1; i <= 4; i++) await GenServer.call(n, ref, { op: 'deposit', amount: 1, requestId: `c${i}` });
    // c1 is beyond the newest 3: a retry runs again.
    expect(await GenServer.call(n, ref, { op: 'deposit', amount: 1, requestId: 'c1' })).toEqual({ ok: true, balance: 5 });
    expect(await GenServer.call(n, ref, { op: 'deposit', amount: 1, requestId: 'c4' })).toEqual({ ok: true, balance: 4 });
    now += 10_001;
    expect(await GenServer.call(n, ref, { op: 'deposit', amount: 1, requestId: 'c4' })).toEqual({ ok: true, balance: 6 });
  });
});

describe('event-sourced server: schema versions', () => {
  it('upgrades events written with an older version on replay', async () => {
    const n = node();
    const store = new MemoryStore();
    // Version 1 stored cents as `cents`; version 2 is the account's `{ type, amount }`.
    await store.journal.append({ id: 'account-a', expectedSeq: 0, events: [{ event: { kind: 'dep', cents: 700 }, version: 1 }] });
    const b = {
      ...account(),
      eventVersion: 2,
      upgradeEvent: (e: unknown, v: number) => {
        if (v !== 1) throw new Error(`unknown version ${v}`);
        return { type: 'deposited' as const, amount: (e as { cents: number }).cents / 100 };
      },
    };
    const r = await GenServer.start(n, eventSourced(b, { journal: store.journal }), 'a');
    if (!isStarted(r)) throw new Error('start');
    expect(await GenServer.call(n, r.ok, { op: 'deposit', amount: 3 })).toEqual({ ok: true, balance: 10 });
    expect((await store.journal.replay('account-a', 2, 2, 1))[0]!.version).toBe(2);
  });
});

describe('event-sourced server: a GenServer for everything else', () => {
  type Msg = { add: number };
  const ticker: EventSourcedBehaviour<number, 'get', Msg, number, Msg, 'tick'> = {
    persistenceId: (id) => `ticker-${id}`,
    initialState: () => 0,
    handleCommand: (_c, s) => ({ reply: s, timeout: { after: 10, msg: 'tick' } }),
    handleCast: (c) => ({ events: [c] }),
    handleInfo: (m) => (m === 'tick' ? { events: [{ add: 100 }] } : {}),
    handleEvent: (s, e) => s + e.add,
  };

  it('persists from casts and infos, arms timeouts, registers names', async () => {
    const n = node();
    const store = new MemoryStore();
    const r = await GenServer.start(n, eventSourced(ticker, { journal: store.journal }), 't', { name: 'ticker' });
    if (!isStarted(r)) throw new Error('start');
    GenServer.cast(n, r.ok, { add: 2 });
    expect(await GenServer.call(n, 'ticker', 'get')).toBe(2);
    // The event timeout fires handleInfo('tick'), which persists +100.
    const deadline = Date.now() + 3000;
    while ((await store.journal.highestSeq('ticker-t')) < 2 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 5));
    expect(await GenServer.call(n, r.ok, 'get')).toBe(102);
  });
});
