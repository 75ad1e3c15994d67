import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GenServer, MemoryNetwork, isStarted, type Node, type Pid } from '@troupe/actor-core';
import { testNode, until } from '@troupe/actor-core/testing';
import {
  DeliveryBufferFullError,
  MemoryStore,
  ProducerStoppedError,
  ReliableProducer,
  StoreError,
  durableState,
  eventSourced,
  type AppendRequest,
  type DurableStateStore,
  type EventSourcedOptions,
  type EventSourcedState,
  type Journal,
  type PersistedEvent,
  type ProcessedCommand,
  type ProcessedRetention,
  type StoredState,
  type DeliveryLocator,
} from '../src/index.js';
import { SqliteStore } from '../src/stores/sqlite/index.js';
import { DELIVER, CONFIRMED, type DeliverEnvelope } from '../src/delivery/protocol.js';
import { ledger, stateLedger, type Item, type Ledger } from './support/ledger.js';

let nodes: Node[] = [];
const cleanups: (() => void | Promise<void>)[] = [];
function node(): Node {
  const n = testNode(`rd${nodes.length}@local`);
  nodes.push(n);
  return n;
}
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  for (const n of nodes) n.shutdown();
  nodes = [];
});

async function startLedger(n: Node, opts: EventSourcedOptions, id = 'l', log?: string[], name?: string): Promise<Pid> {
  const r = await GenServer.start(n, eventSourced(ledger(log), opts), id, name === undefined ? {} : { name });
  if (!isStarted(r)) throw new Error(`start failed: ${JSON.stringify(r)}`);
  return r.ok as unknown as Pid;
}

async function items(n: Node, pid: Pid): Promise<number[]> {
  return (await GenServer.call<Ledger>(n, pid, { op: 'get' })).items;
}

async function producer(n: Node, opts: Parameters<typeof ReliableProducer.start>[1]): Promise<ReliableProducer<Item>> {
  const p = await ReliableProducer.start<Item>(n, opts);
  cleanups.push(() => p.stop());
  return p;
}

/** A stand-in consumer that records every batch and confirms only when told. */
function fakeConsumer(n: Node): { pid: Pid; batches: DeliverEnvelope[]; confirm(s: number, gap?: boolean): void } {
  const batches: DeliverEnvelope[] = [];
  const pid = n.spawn({
    handle: (m: unknown) => {
      if (typeof m === 'object' && m !== null && DELIVER in m) batches.push(m as DeliverEnvelope);
    },
  });
  return {
    pid,
    batches,
    confirm(s, gap = false) {
      const last = batches[batches.length - 1]!;
      n.send(last.r, { [CONFIRMED]: 1, p: last.p, s, g: gap });
    },
  };
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** A raw batch, as a producer would send it (for the consumer-side rules). */
function batch(p: string, f: number, ns: number[], replyTo: Pid, c = 0): DeliverEnvelope {
  return { [DELIVER]: 1, p, f, m: ns.map((n) => ({ n })), c, r: replyTo };
}

/** A process that collects confirmations. */
function confirmations(n: Node): { pid: Pid; got: { s: number; g: boolean }[] } {
  const got: { s: number; g: boolean }[] = [];
  const pid = n.spawn({
    handle: (m: unknown) => {
      if (typeof m === 'object' && m !== null && CONFIRMED in m) got.push(m as unknown as { s: number; g: boolean });
    },
  });
  return { pid, got };
}

describe('reliable delivery: producer to an event-sourced consumer', () => {
  it('delivers every message once, in order, and each send resolves with its sequence number once confirmed', async () => {
    const n = node();
    const store = new MemoryStore();
    const log: string[] = [];
    const c = await startLedger(n, { journal: store.journal }, 'l', log);
    const p = await producer(n, { producerId: 'p', target: c });
    const seqs = await Promise.all(range(1, 500).map((i) => p.send({ n: i })));
    expect(seqs).toEqual(range(1, 500));
    expect(await items(n, c)).toEqual(range(1, 500));
    expect(log).toEqual(range(1, 500).map((i) => `p:${i}`));
    expect(p.stats()).toMatchObject({ confirmed: 500, inFlight: 0, buffered: 0, nextSeq: 501 });
  });

  it('works over SQLite, and the state and marks come back after a restart', async () => {
    const n = node();
    const dir = mkdtempSync(join(tmpdir(), 'troupe-rd-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const store = new SqliteStore({ path: join(dir, 's.db') });
    cleanups.push(() => store.close());
    const c = await startLedger(n, { journal: store.journal });
    const p = await producer(n, { producerId: 'p', target: c });
    await Promise.all(range(1, 200).map((i) => p.send({ n: i })));
    await GenServer.stop(n, c);
    const again = await startLedger(n, { journal: store.journal });
    const replies = confirmations(n);
    n.send(again, batch(p.producerId, 150, range(150, 200), replies.pid));
    await until(() => replies.got.length === 1, 3000, 'the confirmation');
    expect(replies.got[0]).toMatchObject({ s: 200, g: false });
    expect(await items(n, again)).toEqual(range(1, 200));
  });

  it('confirms a duplicate without applying it, applies only the new tail of an overlapping batch, and refuses a gap', async () => {
    const n = node();
    const log: string[] = [];
    const c = await startLedger(n, { journal: new MemoryStore().journal }, 'l', log);
    const replies = confirmations(n);
    n.send(c, batch('x', 1, [1, 2, 3], replies.pid));
    n.send(c, batch('x', 1, [1, 2, 3], replies.pid)); // the same batch again (a resend)
    n.send(c, batch('x', 2, [2, 3, 4, 5], replies.pid)); // overlaps: 4 and 5 are new
    n.send(c, batch('x', 8, [8, 9], replies.pid)); // 6 and 7 missing: a gap
    n.send(c, batch('y', 1, [100], replies.pid)); // another producer has its own numbering
    await until(() => replies.got.length === 5, 3000, 'five confirmations');
    expect(replies.got).toEqual([
      expect.objectContaining({ s: 3, g: false }),
      expect.objectContaining({ s: 3, g: false }),
      expect.objectContaining({ s: 5, g: false }),
      expect.objectContaining({ s: 5, g: true }),
      expect.objectContaining({ s: 1, g: false }),
    ]);
    expect(await items(n, c)).toEqual([1, 2, 3, 4, 5, 100]);
    expect(log).toEqual(['x:1', 'x:2', 'x:3', 'x:4', 'x:5', 'y:1']);
    // One journal record per applied batch holds the mark: 3 + 2 + 1 events and 3 marks.
    expect((await GenServer.getState<EventSourcedState<Ledger>>(n, c)).seq).toBe(9);
  });

  it('never applies at or below what the producer saw confirmed (a forgotten mark)', async () => {
    const n = node();
    const c = await startLedger(n, { journal: new MemoryStore().journal, maxProducers: 1 });
    const replies = confirmations(n);
    n.send(c, batch('x', 1, [1, 2], replies.pid));
    n.send(c, batch('y', 1, [10], replies.pid)); // evicts x's mark (maxProducers 1)
    n.send(c, batch('x', 1, [1, 2, 3], replies.pid, 2)); // x saw 2 confirmed: only 3 is new
    await until(() => replies.got.length === 3, 3000, 'three confirmations');
    expect(replies.got[2]).toMatchObject({ s: 3, g: false });
    expect(await items(n, c)).toEqual([1, 2, 10, 3]);
  });

  it('drops a malformed delivery with a warning and keeps serving', async () => {
    const n = node();
    const c = await startLedger(n, { journal: new MemoryStore().journal });
    for (const bad of [{ [DELIVER]: 1 }, { [DELIVER]: 1, p: 'x', f: 0, m: [{ n: 1 }], c: 0, r: c }, { [DELIVER]: 1, p: 'x', f: 1, m: [], c: 0, r: c }, { [DELIVER]: 1, p: 'x', f: 1, m: [1], c: 0, r: 'nope' }]) {
      n.send(c, bad);
    }
    expect(await items(n, c)).toEqual([]);
    expect(n.isAlive(c)).toBe(true);
  });
});

describe('reliable delivery: the producer side', () => {
  it('keeps at most `window` messages unconfirmed; more are sent as confirmations come', async () => {
    const n = node();
    const fake = fakeConsumer(n);
    const p = await producer(n, { producerId: 'w', target: fake.pid, window: 5, resendMinMs: 60_000 });
    for (let i = 1; i <= 20; i++) void p.send({ n: i }).catch(() => undefined);
    await until(() => fake.batches.length > 0, 3000, 'the first batch');
    const sent = (): number[] => fake.batches.flatMap((b) => b.m.map((m) => (m as Item).n));
    expect(sent()).toEqual(range(1, 5));
    expect(p.stats()).toMatchObject({ inFlight: 5, buffered: 20 });
    fake.confirm(2);
    await until(() => sent().length === 7, 3000, 'two more');
    expect(sent()).toEqual(range(1, 7));
    expect(fake.batches[1]).toMatchObject({ f: 6, c: 2 });
    fake.confirm(7);
    await until(() => sent().length === 12, 3000, 'five more');
    expect(sent()).toEqual(range(1, 12));
  });

  it('rejects DeliveryBufferFullError beyond maxBuffered, queueing nothing', async () => {
    const n = node();
    const fake = fakeConsumer(n);
    const p = await producer(n, { producerId: 'b', target: fake.pid, window: 2, maxBuffered: 5, resendMinMs: 60_000 });
    const pending = range(1, 5).map((i) => p.send({ n: i }));
    await expect(p.send({ n: 6 })).rejects.toBeInstanceOf(DeliveryBufferFullError);
    expect(p.stats().nextSeq).toBe(6);
    await until(() => fake.batches.length > 0, 3000, 'the first batch');
    fake.confirm(1);
    await expect(pending[0]).resolves.toBe(1);
    // One confirmed: room for one more, not two.
    const sixth = p.send({ n: 6 });
    await expect(p.send({ n: 7 })).rejects.toBeInstanceOf(DeliveryBufferFullError);
    expect(p.stats()).toMatchObject({ nextSeq: 7, buffered: 5 });
    for (const x of [...pending, sixth]) x.catch(() => undefined);
  });

  it('resends everything unconfirmed after the resend timeout, with the timeout doubling while nothing is confirmed', async () => {
    const n = node();
    const fake = fakeConsumer(n);
    const p = await producer(n, { producerId: 'r', target: fake.pid, window: 10, resendMinMs: 40, resendMaxMs: 1000 });
    const times: number[] = [];
    const recv = fake.batches.push.bind(fake.batches);
    fake.batches.push = (...b: DeliverEnvelope[]) => (times.push(performance.now()), recv(...b));
    const done = Promise.all(range(1, 3).map((i) => p.send({ n: i })));
    await until(() => fake.batches.length >= 4, 5000, 'three resends');
    // Timers never fire early (1 ms of slack): 40, 80, 160 ms between sends shows the doubling.
    const gaps = times.slice(1, 4).map((t, i) => t - times[i]!);
    for (const [i, g] of gaps.entries()) expect(g).toBeGreaterThanOrEqual(40 * 2 ** i - 2);
    const at = fake.batches.map((b) => ({ f: b.f, m: b.m.length }));
    expect(at.slice(0, 3)).toEqual([
      { f: 1, m: 3 },
      { f: 1, m: 3 },
      { f: 1, m: 3 },
    ]);
    expect(p.stats().resent).toBeGreaterThanOrEqual(6);
    fake.confirm(3);
    await expect(done).resolves.toEqual([1, 2, 3]);
    expect(p.stats()).toMatchObject({ confirmed: 3, inFlight: 0 });
  });

  it('resends at once when the consumer reports a gap, and when the target moves (locator watch)', async () => {
    const n = node();
    const lost = fakeConsumer(n);
    const store = new MemoryStore();
    let where: Pid = lost.pid;
    let changed: (() => void) | undefined;
    const locator: DeliveryLocator = { whereis: () => where, watch: (cb) => ((changed = cb), () => (changed = undefined)) };
    // No timer can explain a resend within this test: only the move.
    const p = await producer(n, { producerId: 'm', target: locator, resendMinMs: 600_000 });
    const sends = range(1, 10).map((i) => p.send({ n: i }));
    await until(() => lost.batches.length > 0, 3000, 'the batch to the old pid');
    const c = await startLedger(n, { journal: store.journal });
    where = c;
    changed!();
    await expect(Promise.all(sends)).resolves.toEqual(range(1, 10));
    expect(await items(n, c)).toEqual(range(1, 10));

    // A gap report (the consumer missed a batch) makes the producer resend from the mark.
    const fake = fakeConsumer(n);
    const p2 = await producer(n, { producerId: 'g', target: fake.pid, resendMinMs: 600_000 });
    void p2.send({ n: 1 }).catch(() => undefined);
    await until(() => fake.batches.length === 1, 3000, 'the first batch');
    fake.confirm(0, true);
    await until(() => fake.batches.length === 2, 3000, 'the resend');
    expect(fake.batches[1]).toMatchObject({ f: 1 });
  });

  it('resends at once when the connection to the consumer\'s node comes back (nodeup)', async () => {
    const net = new MemoryNetwork();
    const [a, b] = [node(), node()];
    net.connect(a, b);
    const fake = fakeConsumer(b);
    const p = await producer(a, { producerId: 'up', target: fake.pid, resendMinMs: 600_000 });
    void p.send({ n: 1 }).catch(() => undefined);
    await until(() => fake.batches.length === 1, 3000, 'the first batch');
    await net.disconnect(a, b);
    net.connect(a, b);
    await until(() => fake.batches.length === 2, 3000, 'the resend after the reconnect');
    expect(fake.batches[1]).toMatchObject({ f: 1, c: 0 });
    expect(p.stats().resent).toBe(1);
  });

  it('follows a consumer restarted under its name (DOWN of the old pid, then the name resolves again)', async () => {
    const n = node();
    const store = new MemoryStore();
    const gate = new HoldJournal(store.journal);
    const c1 = await startLedger(n, { journal: gate }, 'l', undefined, 'ledger');
    const p = await producer(n, { producerId: 'n', target: 'ledger', resendMinMs: 600_000 });
    gate.hold = true;
    const sends = range(1, 5).map((i) => p.send({ n: i }));
    await until(() => gate.held > 0, 3000, 'a write in progress');
    n.exit(c1, 'kill'); // the write never happens; the messages are lost with the process
    await until(() => !n.isAlive(c1), 3000, 'the consumer to die');
    gate.hold = false;
    const c2 = await startLedger(n, { journal: store.journal }, 'l', undefined, 'ledger');
    // The DOWN found no pid under the name (nothing sent); a nodeup or the timer would retry; a new
    // message pumps at once and goes to the new pid with everything unconfirmed.
    const last = p.send({ n: 6 });
    await expect(Promise.all([...sends, last])).resolves.toEqual(range(1, 6));
    expect(await items(n, c2)).toEqual(range(1, 6));
  });

  it('refuses bad options with a clear error', async () => {
    const n = node();
    await expect(ReliableProducer.start(n, { producerId: '', target: 'x' })).rejects.toThrow(/producerId/);
    await expect(ReliableProducer.start(n, { producerId: 'a', target: 42 as unknown as string })).rejects.toThrow(/target/);
    await expect(ReliableProducer.start(n, { producerId: 'a', target: 'x', window: 0 })).rejects.toThrow(/window/);
  });
});

describe('reliable delivery: the outbox', () => {
  it('keeps unconfirmed messages across a producer restart: the new producer resends them, each applied once', async () => {
    const n = node();
    const outbox = new MemoryStore();
    const store = new MemoryStore();
    // First life: the consumer is not there yet; everything stays in the outbox.
    const p1 = await ReliableProducer.start<Item>(n, { producerId: 'ob', target: 'nobody-yet', outbox: outbox.journal });
    const stored = await Promise.all(range(1, 10).map((i) => p1.enqueue({ n: i })));
    expect(stored).toEqual(range(1, 10));
    // Not yet in the outbox when the producer stops: rejected, and not stored.
    const lost = p1.send({ n: 99 });
    await p1.stop();
    await expect(lost).rejects.toBeInstanceOf(ProducerStoppedError);
    expect(await outbox.journal.highestSeq('troupe:outbox:ob')).toBe(10);

    const c = await startLedger(n, { journal: store.journal }, 'l', undefined, 'nobody-yet');
    const p2 = await producer(n, { producerId: 'ob', target: c, outbox: outbox.journal });
    expect(p2.stats()).toMatchObject({ confirmed: 0, nextSeq: 11, buffered: 10 });
    await expect(p2.send({ n: 11 })).resolves.toBe(11);
    expect(await items(n, c)).toEqual(range(1, 11));
    // Confirmed messages leave the outbox.
    await until(() => p2.stats().buffered === 0, 3000, 'all confirmed');
    await expectEventually(async () => (await outbox.journal.replay('troupe:outbox:ob', 1, Infinity, 100)).length === 0);
  });

  it('a restarted producer whose confirmations were lost resends applied messages: the consumer confirms them without applying', async () => {
    const n = node();
    const outbox = new MemoryStore();
    const log: string[] = [];
    const c = await startLedger(n, { journal: new MemoryStore().journal }, 'l', log);
    // A relay that forwards batches to the consumer but swallows the confirmations.
    const relay = n.spawn({
      handle: (m: unknown, ctx) => {
        if (typeof m === 'object' && m !== null && DELIVER in m) ctx.send(c, { ...(m as DeliverEnvelope), r: ctx.self });
      },
    });
    const p1 = await ReliableProducer.start<Item>(n, { producerId: 'lost', target: relay, outbox: outbox.journal, resendMinMs: 600_000 });
    await Promise.all(range(1, 5).map((i) => p1.enqueue({ n: i })));
    await expectEventually(async () => (await items(n, c)).length === 5);
    await p1.stop();

    const p2 = await producer(n, { producerId: 'lost', target: c, outbox: outbox.journal });
    expect(p2.stats()).toMatchObject({ confirmed: 0, buffered: 5 });
    await expect(p2.send({ n: 6 })).resolves.toBe(6);
    expect(await items(n, c)).toEqual(range(1, 6));
    expect(log).toEqual(range(1, 6).map((i) => `lost:${i}`));
  });

  it('two producers with one outbox id: the second one\'s outbox write loses, and it stops', async () => {
    const n = node();
    const outbox = new MemoryStore();
    const fake = fakeConsumer(n);
    const a = await producer(n, { producerId: 'dup', target: fake.pid, outbox: outbox.journal });
    const b = await producer(n, { producerId: 'dup', target: fake.pid, outbox: outbox.journal });
    await a.enqueue({ n: 1 });
    await expect(b.enqueue({ n: 1 })).rejects.toBeInstanceOf(ProducerStoppedError);
  });
});

describe('reliable delivery: the mark is in the same write as the effects', () => {
  it('event-sourced: a write that happened but reported failure leaves events and mark together; the resend is not applied again', async () => {
    const n = node();
    const store = new MemoryStore();
    const flaky = new HoldJournal(store.journal);
    const log: string[] = [];
    const c1 = await startLedger(n, { journal: flaky }, 'l', log);
    flaky.failAfterWrite = true;
    const replies = confirmations(n);
    n.send(c1, batch('x', 1, [1, 2, 3], replies.pid));
    await until(() => !n.isAlive(c1), 3000, 'the consumer to stop on the failed write');
    expect(replies.got).toEqual([]); // never confirmed what it could not see stored
    // Every record of the batch (three events and the mark) is in the journal, or none is.
    const recs = await store.journal.replay('ledger-l', 1, Infinity, 100);
    expect(recs.map((r) => r.version)).toEqual([1, 1, 1, 0]);

    const c2 = await startLedger(n, { journal: store.journal }, 'l', log);
    n.send(c2, batch('x', 1, [1, 2, 3], replies.pid));
    await until(() => replies.got.length === 1, 3000, 'the confirmation');
    expect(replies.got[0]).toMatchObject({ s: 3, g: false });
    expect(await items(n, c2)).toEqual([1, 2, 3]);
  });

  it('event-sourced: a write that failed stores neither events nor mark; the resend is applied', async () => {
    const n = node();
    const store = new MemoryStore();
    const flaky = new HoldJournal(store.journal);
    const c1 = await startLedger(n, { journal: flaky });
    flaky.failBeforeWrite = true;
    const replies = confirmations(n);
    n.send(c1, batch('x', 1, [1, 2], replies.pid));
    await until(() => !n.isAlive(c1), 3000, 'the consumer to stop');
    expect(await store.journal.highestSeq('ledger-l')).toBe(0);
    const c2 = await startLedger(n, { journal: store.journal });
    n.send(c2, batch('x', 1, [1, 2], replies.pid));
    await until(() => replies.got.length === 1, 3000, 'the confirmation');
    expect(await items(n, c2)).toEqual([1, 2]);
  });

  it('event-sourced: marks survive in snapshots when the events before them are deleted', async () => {
    const n = node();
    const store = new MemoryStore();
    const c1 = await startLedger(n, { journal: store.journal, snapshots: store.snapshots, snapshotEvery: 4 });
    const replies = confirmations(n);
    n.send(c1, batch('x', 1, [1, 2, 3], replies.pid)); // 4 records: a snapshot at 4
    await until(() => replies.got.length === 1, 3000, 'the confirmation');
    await expectEventually(async () => (await store.snapshots.latest('ledger-l')) !== undefined);
    await GenServer.stop(n, c1);
    await store.journal.deleteTo('ledger-l', 4);
    const c2 = await startLedger(n, { journal: store.journal, snapshots: store.snapshots, snapshotEvery: 4 });
    n.send(c2, batch('x', 2, [2, 3, 4], replies.pid));
    await until(() => replies.got.length === 2, 3000, 'the second confirmation');
    expect(replies.got[1]).toMatchObject({ s: 4, g: false });
    expect(await items(n, c2)).toEqual([1, 2, 3, 4]);
  });

  it('durable state: the mark is in the state row; a write reported failed after it happened is not applied twice', async () => {
    const n = node();
    const store = new MemoryStore();
    const flaky = new FlakyStates(store.states);
    const log: string[] = [];
    const start = async (states: DurableStateStore): Promise<Pid> => {
      const r = await GenServer.start(n, durableState(stateLedger(log), { states }), 'l');
      if (!isStarted(r)) throw new Error('start failed');
      return r.ok as unknown as Pid;
    };
    const c1 = await start(flaky);
    const replies = confirmations(n);
    n.send(c1, batch('x', 1, [1, 2], replies.pid));
    await until(() => replies.got.length === 1, 3000, 'the confirmation');
    flaky.failAfterWrite = true;
    n.send(c1, batch('x', 3, [3, 4], replies.pid));
    await until(() => !n.isAlive(c1), 3000, 'the consumer to stop');
    const c2 = await start(store.states);
    n.send(c2, batch('x', 1, [1, 2, 3, 4, 5], replies.pid));
    await until(() => replies.got.length === 2, 3000, 'the confirmation');
    expect(replies.got[1]).toMatchObject({ s: 5, g: false });
    expect((await GenServer.call<Ledger>(n, c2, { op: 'get' })).items).toEqual([1, 2, 3, 4, 5]);
    expect(log).toEqual(['x:1', 'x:2', 'x:3', 'x:4', 'x:5']);
  });

  it('durable state: a producer delivers to it end to end', async () => {
    const n = node();
    const store = new MemoryStore();
    const r = await GenServer.start(n, durableState(stateLedger(), { states: store.states }), 'e2e');
    if (!isStarted(r)) throw new Error('start failed');
    const c = r.ok as unknown as Pid;
    const p = await producer(n, { producerId: 'd', target: c });
    await Promise.all(range(1, 100).map((i) => p.send({ n: i })));
    expect((await GenServer.call<Ledger>(n, c, { op: 'get' })).items).toEqual(range(1, 100));
  });
});

async function expectEventually(cond: () => Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A journal that can hold appends, or fail one before or after it is written. */
class HoldJournal implements Journal {
  hold = false;
  held = 0;
  failBeforeWrite = false;
  failAfterWrite = false;
  constructor(private readonly inner: Journal) {}
  async append(req: AppendRequest): Promise<void> {
    if (this.hold) {
      this.held++;
      await new Promise<never>(() => undefined);
    }
    if (this.failBeforeWrite) {
      this.failBeforeWrite = false;
      throw new StoreError('disk full (test)');
    }
    await this.inner.append(req);
    if (this.failAfterWrite) {
      this.failAfterWrite = false;
      throw new StoreError('connection lost after commit (test)');
    }
  }
  replay(id: string, fromSeq: number, toSeq: number, max: number): Promise<PersistedEvent[]> {
    return this.inner.replay(id, fromSeq, toSeq, max);
  }
  highestSeq(id: string): Promise<number> {
    return this.inner.highestSeq(id);
  }
  deleteTo(id: string, toSeq: number): Promise<void> {
    return this.inner.deleteTo(id, toSeq);
  }
  processed(id: string, keep: ProcessedRetention): Promise<ProcessedCommand[]> {
    return this.inner.processed(id, keep);
  }
  pruneProcessed(id: string, keep: ProcessedRetention): Promise<void> {
    return this.inner.pruneProcessed(id, keep);
  }
}

class FlakyStates implements DurableStateStore {
  failAfterWrite = false;
  constructor(private readonly inner: DurableStateStore) {}
  get(id: string): Promise<StoredState | undefined> {
    return this.inner.get(id);
  }
  async upsert(id: string, expectedRevision: number, state: unknown, version: number): Promise<number> {
    const r = await this.inner.upsert(id, expectedRevision, state, version);
    if (this.failAfterWrite) {
      this.failAfterWrite = false;
      throw new StoreError('connection lost after commit (test)');
    }
    return r;
  }
  delete(id: string, expectedRevision: number): Promise<void> {
    return this.inner.delete(id, expectedRevision);
  }
}
