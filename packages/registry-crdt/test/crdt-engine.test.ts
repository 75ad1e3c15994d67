import { describe, expect, it } from 'vitest';
import { SyncEngine } from '../src/crdt/engine.js';
import type { Out, SyncMsg } from '../src/crdt/types.js';
import { SimNet, randomOp, rng, type SimValue } from './sim.js';

/** Delivers every frame of `outs` addressed to `to` (and nothing else). */
function deliver(to: SyncEngine<SimValue>, from: string, outs: Out<SimValue>[]): Out<SimValue>[] {
  const back: Out<SimValue>[] = [];
  for (const o of outs) if (o.to === to.self.peer) back.push(...to.receive(from, structuredClone(o.msg)));
  return back;
}

/** Runs a two-engine exchange to quiescence, FIFO and lossless. */
function pump(a: SyncEngine<SimValue>, b: SyncEngine<SimValue>, first: Out<SimValue>[], from: SyncEngine<SimValue>): void {
  let q: { from: SyncEngine<SimValue>; outs: Out<SimValue>[] }[] = [{ from, outs: first }];
  for (let i = 0; i < 100 && q.length > 0; i++) {
    const next: typeof q = [];
    for (const { from: f, outs } of q) {
      const to = f === a ? b : a;
      const back = deliver(to, f.self.peer, outs);
      if (back.length > 0) next.push({ from: to, outs: back });
    }
    next.push({ from: a, outs: a.flush() }, { from: b, outs: b.flush() });
    q = next.filter((x) => x.outs.length > 0);
  }
}

function pair(opts: { chunkSize?: number; maxLogOps?: number } = {}): [SyncEngine<SimValue>, SyncEngine<SimValue>] {
  const accept = (v: unknown): boolean => typeof v === 'object' && v !== null && typeof (v as SimValue).v === 'number';
  const a = new SyncEngine<SimValue>({ self: { peer: 'a', inc: 1 }, acceptValue: accept, ...opts });
  const b = new SyncEngine<SimValue>({ self: { peer: 'b', inc: 1 }, acceptValue: accept, ...opts });
  return [a, b];
}

function connect(a: SyncEngine<SimValue>, b: SyncEngine<SimValue>): void {
  const ha = a.addPeer('b');
  const hb = b.addPeer('a');
  pump(a, b, ha, a);
  pump(a, b, hb, b);
}

/** Five engines, 400 random writes under 10% drop, 10% duplication and reordering, anti-entropy every 100; then quiesced. `full`: rounds to every peer, else only to peers out of sync. */
function lossyRun(seed: number, full: boolean): SimNet {
  const r = rng(seed);
  const net = new SimNet(r, { maxOpsPerDelta: 20 });
  const names = ['a', 'b', 'c', 'd', 'e'];
  for (const n of names) net.add(n);
  net.faults = { drop: 0.1, dup: 0.1, jitter: 30 };
  for (let step = 0; step < 400; step++) {
    randomOp(net, names[Math.floor(r() * names.length)]!, r);
    net.run(2);
    if (step % 100 === 99) net.tick(full);
  }
  net.quiesce(20, full);
  return net;
}

describe('delta-CRDT engine', () => {
  it('scenario 1 basic replication: a local add reaches the peer as one delta', () => {
    const [a, b] = pair();
    connect(a, b);
    a.add('x', { v: 1 });
    const out = a.flush();
    expect(out.map((o) => o.msg.t)).toEqual(['delta']);
    deliver(b, 'a', out);
    expect([...b.entries('x')!].map((e) => e.value.v)).toEqual([1]);
    expect(b.partitionInfo(a.self)).toEqual({ up: 1, dg: a.digest, count: 1 });
  });

  it('removal and update replicate without tombstones; the log is GC-ed once acked', () => {
    const [a, b] = pair();
    connect(a, b);
    const e = a.add('x', { v: 1 });
    a.update(e.id, { v: 2 });
    pump(a, b, a.flush(), a);
    expect([...b.entries('x')!][0]!.value.v).toBe(2);
    a.remove(e.id);
    pump(a, b, a.flush(), a);
    expect(b.entries('x')).toBeUndefined();
    expect(b.size).toBe(0);
    // b acked everything: nothing of a's history is retained.
    a.flush();
    expect(a.logSize).toBe(0);
  });

  it('scenario 10: converges under 10% drop, 10% duplicate and reordering (several seeds)', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const net = lossyRun(seed, true);
      expect(net.diverged()).toEqual([]);
      expect(net.violations).toBe(0);
      const stats = [...net.engines.values()].map((e) => e.stats);
      // The faults did happen and were repaired by NACKs / re-sends.
      expect(stats.reduce((s, x) => s + x.gaps, 0)).toBeGreaterThan(0);
      expect(stats.reduce((s, x) => s + x.duplicates, 0)).toBeGreaterThan(0);
    }
  });

  it('delta_crdt#65 regression: writes at the anti-entropy cadence on 3 nodes lose no key', () => {
    const r = rng(65);
    const net = new SimNet(r);
    for (const n of ['a', 'b', 'c']) net.add(n);
    net.faults = { drop: 0.05, dup: 0, jitter: 10 };
    const keys = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const n = ['a', 'b', 'c'][i % 3]!;
      net.mutate(n, (e) => keys.set(`${n}:${i}`, e.add(`${n}:${i}`, { v: i }).id));
      // a sync tick between (almost) every write: the pattern of the issue
      if (i % 2 === 0) net.tick();
      net.run(3);
    }
    net.quiesce();
    for (const e of net.engines.values()) {
      for (const k of keys.keys()) expect(e.entries(k)?.length, `${e.self.peer} lost ${k}`).toBe(1);
    }
  });

  it('scenario 3 (data layer): netsplit and heal converge; a cut drops the other side’s entries', () => {
    const r = rng(7);
    const net = new SimNet(r);
    const names = ['a', 'b', 'c', 'd'];
    for (const n of names) net.add(n);
    for (let i = 0; i < 100; i++) randomOp(net, names[i % 4]!, r);
    net.quiesce();
    for (const x of ['a', 'b']) for (const y of ['c', 'd']) net.split(x, y);
    expect([...net.engines.get('a')!.allEntries()].every((e) => e.origin.peer === 'a' || e.origin.peer === 'b')).toBe(true);
    for (let i = 0; i < 200; i++) randomOp(net, names[i % 4]!, r);
    net.run(20);
    for (const x of ['a', 'b']) for (const y of ['c', 'd']) net.heal(x, y);
    net.quiesce();
    expect(net.diverged()).toEqual([]);
    const sizes = [...net.engines.values()].map((e) => e.size);
    expect(new Set(sizes).size).toBe(1);
  });

  it('scenario 8: a new member gets a chunked snapshot, applied atomically', () => {
    const [a, b] = pair({ chunkSize: 100 });
    for (let i = 0; i < 1000; i++) a.add(`k${i}`, { v: i });
    for (let i = 0; i < 500; i++) a.remove(i + 1); // history longer than the state: a snapshot is cheaper
    const hb = b.addPeer('a');
    deliver(b, 'a', a.addPeer('b'));
    const answer = deliver(a, 'b', hb);
    const snaps = answer.filter((o) => o.msg.t === 'snap');
    expect(snaps.length).toBe(5);
    // All chunks but the last: nothing visible, the version is not advanced.
    for (const o of snaps.slice(0, -1)) b.receive('a', structuredClone(o.msg));
    expect(b.size).toBe(0);
    expect(b.partitionInfo(a.self)?.up ?? 0).toBe(0);
    expect(b.stagedRows).toBe(400);
    b.receive('a', structuredClone(snaps.at(-1)!.msg));
    expect(b.size).toBe(500);
    expect(b.stagedRows).toBe(0);
    expect(b.partitionInfo(a.self)).toEqual({ up: 1500, dg: a.digest, count: 500 });
    expect(b.peerInfo('a')?.synced).toBe(true);
  });

  it('scenario 8: a join costs one snapshot (HELLOs crossing it or due while it arrives do not restart it); a stalled one is asked for again', () => {
    const [a, b] = pair({ chunkSize: 100, maxLogOps: 10 });
    for (let i = 0; i < 300; i++) a.add(`k${i}`, { v: i });
    const hb = b.addPeer('a');
    const ha = a.addPeer('b');
    const snaps = deliver(a, 'b', hb).filter((o) => o.msg.t === 'snap');
    expect(snaps.length).toBe(3);
    // a's HELLO reaches b before the snapshot; b's answer (it has nothing of a yet) crosses the snapshot.
    const answer = deliver(b, 'a', ha);
    expect(answer.map((o) => o.msg.t)).toContain('hello');
    expect(deliver(a, 'b', answer).filter((o) => o.msg.t === 'snap')).toEqual([]);
    // Chunks keep coming: b's anti-entropy tick stays quiet towards a (its HELLO would say `seen: null`).
    b.receive('a', structuredClone(snaps[0]!.msg));
    expect(b.tick().filter((o) => o.to === 'a')).toEqual([]);
    expect(a.stats.snapshotsSent).toBe(1);
    // No chunk since the last tick: stalled; b drops it and asks again (NACK), a sends a new one.
    const again = b.tick();
    expect(b.stats.snapshotsAborted).toBe(1);
    expect(b.stagedRows).toBe(0);
    expect(again.map((o) => o.msg)).toContainEqual({ t: 'nack', o: b.self, have: -1 });
    pump(a, b, again, b);
    expect(a.stats.snapshotsSent).toBe(2);
    expect(b.partitionInfo(a.self)).toEqual({ up: 300, dg: a.digest, count: 300 });
    // The old chunks arriving late are not mistaken for the new snapshot's.
    for (const o of snaps.slice(1)) b.receive('a', structuredClone(o.msg));
    expect(b.size).toBe(300);
    expect(b.stagedRows).toBe(0);
  });

  it('scenario 11: a snapshot cut off mid-way is discarded; the next HELLO restarts it', () => {
    const [a, b] = pair({ chunkSize: 100, maxLogOps: 10 });
    for (let i = 0; i < 300; i++) a.add(`k${i}`, { v: i });
    const hb = b.addPeer('a');
    a.addPeer('b');
    const snaps = deliver(a, 'b', hb).filter((o) => o.msg.t === 'snap');
    expect(snaps.length).toBe(3);
    b.receive('a', structuredClone(snaps[0]!.msg));
    // chunk 1 lost; chunk 2 arrives: out of order, the staging is dropped
    const back = b.receive('a', structuredClone(snaps[2]!.msg));
    expect(b.stats.snapshotsAborted).toBe(1);
    expect(b.size).toBe(0);
    expect(b.partitionInfo(a.self)?.up ?? 0).toBe(0);
    expect(back.map((o) => o.msg)).toContainEqual({ t: 'nack', o: b.self, have: -1 });
    pump(a, b, back, b);
    expect(b.size).toBe(300);
    expect(b.partitionInfo(a.self)).toEqual({ up: 300, dg: a.digest, count: 300 });
  });

  it('bad input: malformed frames, impossible op sequences and lying snapshots are rejected and counted', () => {
    const [a, b] = pair();
    connect(a, b);
    a.add('x', { v: 1 });
    pump(a, b, a.flush(), a);
    const before = b.partitionInfo(a.self);
    const o = a.self;
    const bad: unknown[] = [
      null,
      'garbage',
      { t: 'delta', o, from: 1, to: 2 },
      { t: 'delta', o, from: 1, to: 3, ops: [[2, 0, 'y', { v: 1 }]] }, // length mismatch
      { t: 'delta', o, from: 1, to: 2, ops: [[5, 0, 'y', { v: 1 }]] }, // seq mismatch
      { t: 'delta', o, from: 1, to: 2, ops: [[2, 0, 'y', { nope: 1 }]] }, // value rejected
      { t: 'delta', o: { peer: 'a' }, from: 1, to: 2, ops: [] },
      { t: 'warp', o },
      { t: 'snap', o, sid: 1, up: 5, i: 3, n: 2, rows: [], count: 0, dg: 0 },
    ];
    for (const m of bad) b.receive('a', m);
    expect(b.stats.malformed).toBe(bad.length);
    // Well-formed but impossible: removes an entry that never existed.
    b.receive('a', { t: 'delta', o, from: 1, to: 2, ops: [[2, 1, 99]] } satisfies SyncMsg<SimValue>);
    // A snapshot whose digest does not match its rows.
    b.receive('a', { t: 'snap', o, sid: 9, up: 1, i: 0, n: 1, rows: [[1, 'x', { v: 1 }, 1]], count: 1, dg: 12345 } satisfies SyncMsg<SimValue>);
    expect(b.stats.malformed).toBe(bad.length + 2);
    expect(b.partitionInfo(a.self)).toEqual(before);
    expect([...b.entries('x')!].length).toBe(1);
    // Frames claiming another peer's origin are not accepted.
    b.receive('a', { t: 'delta', o: { peer: 'c', inc: 1 }, from: 0, to: 1, ops: [[1, 0, 'z', { v: 1 }]] });
    expect(b.entries('z')).toBeUndefined();
  });

  it('scenario 6: a retired incarnation is rejected; a new one supersedes and drops the old entries', () => {
    const r = rng(6);
    const net = new SimNet(r);
    net.add('a');
    net.add('b');
    net.mutate('a', (e) => e.add('old', { v: 1 }));
    net.quiesce();
    expect(net.engines.get('b')!.entries('old')?.length).toBe(1);
    const oldA = net.engines.get('a')!;
    const stale = oldA.add('late', { v: 2 });
    const lateFrames = oldA.flush();
    net.restart('a');
    net.mutate('a', (e) => e.add('new', { v: 3 }));
    net.quiesce();
    const b = net.engines.get('b')!;
    expect(b.entries('old')).toBeUndefined();
    expect(b.entries('new')?.length).toBe(1);
    // The old incarnation's late delta is refused.
    const staleBefore = b.stats.stale;
    for (const f of lateFrames) b.receive('a', structuredClone(f.msg));
    expect(b.stats.stale).toBe(staleBefore + 1);
    expect(b.entries('late')).toBeUndefined();
    expect(stale.key).toBe('late');
  });

  it('a digest mismatch at equal versions is detected and repaired from the owner by a full round (partial rounds leave it)', () => {
    const [a, b] = pair();
    connect(a, b);
    a.add('x', { v: 1 });
    pump(a, b, a.flush(), a);
    // Corrupt b's copy behind the engine's back.
    const e = [...b.entries('x')!][0]!;
    (e as { h: number }).h ^= 1;
    (b as unknown as { parts: Map<string, { digest: number }> }).parts.get('a#1')!.digest ^= 1;
    pump(a, b, a.tick(false), a);
    expect(b.stats.repairs).toBe(0);
    pump(a, b, a.tick(), a);
    expect(b.stats.repairs).toBe(1);
    expect(b.partitionInfo(a.self)).toEqual({ up: 1, dg: a.digest, count: 1 });
  });

  it('partial anti-entropy rounds leave peers in sync alone; full rounds reach every peer', () => {
    const [a, b] = pair();
    connect(a, b);
    a.add('x', { v: 1 });
    b.add('y', { v: 2 });
    pump(a, b, a.flush(), a);
    pump(a, b, b.flush(), b);
    expect(a.tick(false)).toEqual([]);
    expect(b.tick(false)).toEqual([]);
    expect(a.tick(true).map((o) => [o.to, o.msg.t])).toEqual([['b', 'hello']]);
    // A write not acknowledged yet puts the pair out of sync until the ack arrives.
    a.add('z', { v: 3 });
    const delta = a.flush();
    expect(a.tick(false).map((o) => o.msg.t)).toEqual(['hello']);
    pump(a, b, delta, a);
    expect(a.tick(false)).toEqual([]);
  });

  it('a lost ack is replaced: the peer that missed it HELLOs, the other answers with an ack', () => {
    const [a, b] = pair();
    connect(a, b);
    a.add('x', { v: 1 });
    deliver(b, 'a', a.flush());
    b.flush(); // b's ack, lost
    const hello = a.tick(false);
    expect(hello.map((o) => o.msg.t)).toEqual(['hello']);
    expect(deliver(b, 'a', hello)).toEqual([]);
    const ack = b.flush();
    expect(ack.map((o) => o.msg.t)).toEqual(['ack']);
    deliver(a, 'b', ack);
    expect(a.tick(false)).toEqual([]);
  });

  it('converges under 10% drop, 10% duplicate and reordering with partial rounds only (several seeds)', () => {
    for (const seed of [11, 12, 13, 14, 15]) {
      const net = lossyRun(seed, false);
      expect(net.diverged()).toEqual([]);
      expect(net.violations).toBe(0);
    }
  });

  it('scenario 9: churn keeps memory bounded (log capped, no tombstones, index = live entries)', () => {
    const [a, b] = pair({ maxLogOps: 1000 });
    connect(a, b);
    const live: number[] = [];
    for (let i = 0; i < 50_000; i++) {
      if (live.length > 100 && i % 2 === 1) a.remove(live.shift()!);
      else live.push(a.add(`k${i}`, { v: i }).id);
      if (i % 500 === 0) pump(a, b, a.flush(), a);
      expect(a.logSize).toBeLessThanOrEqual(1000);
    }
    pump(a, b, a.flush(), a);
    pump(a, b, a.tick(), a);
    expect(b.size).toBe(live.length);
    expect([...b.keys()].length).toBe(live.length);
    expect(a.logSize).toBe(0);
  });
});
