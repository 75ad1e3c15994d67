/**
 * Suite `registry`: @troupe/registry-crdt over real node processes on
 * loopback. Every cluster node is a @troupe/harness child process (built
 * JavaScript, transport-ws) running `registry-node.ts`; the case's own
 * process only drives them and collects their event times (wall clock with
 * sub-ms precision, comparable across processes). The baseline is the sync
 * engine alone in this process (ops/s applied from deltas), so the ratio
 * tracks machine speed.
 */
import { fileURLToPath } from 'node:url';
import { Pid } from '@troupe/actor-core';
import { SyncEngine, type Out } from '@troupe/registry-crdt/engine';
import { startCluster, type Cluster, type HarnessEvent, type NodeHandle } from '@troupe/harness';
import { median, percentile, type BenchCase, type CaseContext, type MetricInfo } from '../harness.js';

const NODE = fileURLToPath(new URL('./registry-node.js', import.meta.url));
/** 1 s tick timeout, as the cross-process tests: a killed node's socket closes at once anyway. */
const TRANSPORT = { tickMs: 250, tickTimeoutMs: 1000 };
/**
 * The join case: nodes holding 100k names pause for GC and snapshot work
 * (> 1 s on a loaded 2-vCPU box); a tick timeout there drops the peer for
 * good (nothing reconnects) and the case hangs. It measures no failure detection.
 */
const TRANSPORT_BULK = { tickMs: 1000, tickTimeoutMs: 10_000 };

async function cluster(ctx: CaseContext, n: number, setup: { sup?: boolean; watch?: boolean } = {}, transport = TRANSPORT): Promise<Cluster> {
  const names = Array.from({ length: n }, (_, i) => `r${i}`);
  const c = await startCluster({ nodes: names, scenarios: [NODE], runtime: 'dist', logLevel: 'error', transport, nodeArgs: ['--expose-gc'], startTimeoutMs: 30_000 });
  await Promise.all(c.nodes.map((h) => h.run('benchSetup', setup)));
  await Promise.all(c.nodes.map((h) => h.run('benchAwaitTargets', n)));
  void ctx;
  return c;
}

async function close(ctx: CaseContext, c: Cluster): Promise<void> {
  await c.stop();
  void ctx;
}

/** Time for one registration on `from` to be seen by every node of `others`, `k` times in a row. */
async function visibility(from: NodeHandle, others: NodeHandle[], k: number, tag: string): Promise<Float64Array> {
  const out = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    const name = `vis:${tag}:${i}`;
    const marks = others.map((h) => h.mark());
    const at = await from.run<number>('benchRegisterOne', name);
    const seen = await Promise.all(
      others.map((h, j) =>
        h.waitEvent((e: HarnessEvent) => e.kind === 'custom' && e.name === 'seen' && (e.data as { name: string }).name === name, { since: marks[j]!, timeoutMs: 10_000 }),
      ),
    );
    out[i] = Math.max(...seen.map((e) => (e.kind === 'custom' ? (e.data as { at: number }).at : Infinity))) - at;
  }
  return out.sort();
}

async function visibilityCase(ctx: CaseContext, nodes: number, prefix: string, k: number, p50: boolean): Promise<void> {
  const c = await cluster(ctx, nodes, { watch: true });
  try {
    const [from, ...others] = c.nodes;
    await visibility(from!, others, Math.max(5, k >> 3), 'warm');
    const s = await visibility(from!, others, k, 'run');
    if (p50) ctx.report({ name: `${prefix}.p50`, value: percentile(s, 50), unit: 'ms' });
    ctx.report({ name: `${prefix}.p99`, value: percentile(s, 99), unit: 'ms' });
  } finally {
    await close(ctx, c);
  }
}

/** 3 owners hold `n` names between them; a new node joins and converges. */
async function join(c: Cluster, n: number, short: string): Promise<{ ms: number; bytes: number; heap: number }> {
  const j = await c.addNode(short);
  const r = await j.run<{ ms: number; bytes: number; heap: number }>('benchJoin', n);
  await j.stop();
  return r;
}

export const baseline = 'apply';

export const cases: Record<string, BenchCase> = {
  apply: {
    describe: 'the sync engine alone, in this process: ops/s a replica integrates from delta frames (registry claims): the baseline',
    reports: ['registry.apply'],
    async run(ctx) {
      const n = ctx.n(200_000);
      const rates: number[] = [];
      for (let run = 0; run <= ctx.runs; run++) {
        const a = new SyncEngine<unknown>({ self: { peer: 'a', inc: 1 }, maxLogOps: n + 1 });
        const b = new SyncEngine<unknown>({ self: { peer: 'b', inc: 1 } });
        const deliver = (outs: Out<unknown>[], to: SyncEngine<unknown>, from: string): Out<unknown>[] => outs.flatMap((o) => to.receive(from, o.msg));
        deliver(a.addPeer('b'), b, 'a');
        b.addPeer('a');
        deliver(b.tick(), a, 'b');
        const pid = new Pid('a', 1, 1);
        for (let i = 0; i < n; i++) a.add(`user:${i}`, { pid, meta: null, at: 1.7e12 + i, lc: 0 });
        const frames = a.flush().filter((o) => o.msg.t === 'delta');
        const t0 = performance.now();
        for (const f of frames) b.receive('a', f.msg);
        const secs = (performance.now() - t0) / 1e3;
        if (b.size !== n) throw new Error(`applied ${b.size} of ${n}`);
        if (run > 0) rates.push(n / secs); // run 0 is the warm-up
      }
      ctx.report({ name: 'registry.apply', value: median(rates), unit: 'msgs/s', runs: rates });
    },
  },

  visibility: {
    describe: '3 nodes: ms from a registration on one node until all others have it (each arrival timed in its own process)',
    reports: ['registry.visibility.p50', 'registry.visibility.p99'],
    run: (ctx) => visibilityCase(ctx, 3, 'registry.visibility', ctx.n(500, 5), true),
  },

  visibility8: {
    describe: '8 nodes (8 processes on this box): ms until all 7 others have a registration',
    reports: ['registry.visibility8.p50', 'registry.visibility8.p99'],
    run: (ctx) => visibilityCase(ctx, 8, 'registry.visibility8', ctx.n(300, 5), true),
  },

  join: {
    describe: '3 owners hold 10k then 100k names (idle processes); a new node starts the registry: ms until it holds them all, bytes it read, heap per replicated name (and per name on an owner)',
    reports: ['registry.join10k', 'registry.join100k', 'registry.join100k.bytes', 'registry.bytesPerName', 'registry.bytesPerName.owner'],
    async run(ctx) {
      const c = await cluster(ctx, 3, {}, TRANSPORT_BULK);
      try {
        const owners = c.nodes.slice(); // joiners are appended to c.nodes
        const big = ctx.n(100_000, 5);
        const per = Math.ceil(10_000 / 3);
        await Promise.all(owners.map((h, i) => h.run('benchRegisterMany', `n${i}:`, per)));
        await Promise.all(owners.map((h) => h.run('benchAwaitNames', per * 3)));
        const r10 = await join(c, per * 3, 'j10k');
        ctx.report({ name: 'registry.join10k', value: r10.ms, unit: 'ms' });
        // The owner's first heap sample comes after this warm 10k phase (code of
        // the register/sync/snapshot paths compiled, transport buffers grown)
        // and once its replica is quiet (every op acked, nothing in flight), so
        // the owner figure is, like the joiner's, only what the names added
        // between two steady states: fixed costs no longer divided by them.
        await Promise.all(owners.map((h) => h.run('benchAwaitQuiet')));
        const heap0 = await owners[0]!.run<number>('benchHeap');
        const perBig = Math.ceil(big / 3);
        const grown = perBig - per; // own names (and idle processes) owner 0 adds between the samples
        await Promise.all(owners.map((h, i) => h.run('benchRegisterMany', `m${i}:`, grown)));
        const total = perBig * 3;
        await Promise.all(owners.map((h) => h.run('benchAwaitNames', total)));
        await Promise.all(owners.map((h) => h.run('benchAwaitQuiet')));
        // Between the samples the owner gained `grown` own names (plus their idle processes) and 2 × `grown` replicated ones.
        const heap1 = await owners[0]!.run<number>('benchHeap');
        const r = await join(c, total, 'j100k');
        ctx.report({ name: 'registry.join100k', value: r.ms, unit: 'ms' });
        ctx.report({ name: 'registry.join100k.bytes', value: r.bytes, unit: 'B' });
        ctx.report({ name: 'registry.bytesPerName', value: r.heap / total, unit: 'B' });
        // Owner side: what its own names cost beyond the replicated copies and the idle processes (measured below, over the same range).
        const procBytes = await procHeap(c, per, perBig);
        ctx.report({ name: 'registry.bytesPerName.owner', value: (heap1 - heap0 - grown * procBytes - 2 * grown * (r.heap / total)) / grown, unit: 'B' });
      } finally {
        await close(ctx, c);
      }
    },
  },

  failover: {
    describe: '3 nodes, 10k children of a DistributedSupervisor (registered names): SIGKILL of one; ms from the signal until every child runs again on the survivors (as both see it)',
    reports: ['registry.failover10k'],
    async run(ctx) {
      const c = await cluster(ctx, 3, { sup: true });
      try {
        const n = ctx.n(10_000, 5);
        const hs = c.nodes;
        const third = Math.ceil(n / 3);
        await Promise.all(hs.map((h, i) => h.run('benchStartRooms', i * third, Math.min(n, (i + 1) * third))));
        await Promise.all(hs.map((h) => h.run('benchAwaitNames', n)));
        const victim = hs[2]!;
        const survivors = hs.slice(0, 2);
        const lost = (await victim.run<{ local: number }>('benchChildren')).local;
        const killedAt = await victim.kill();
        const done = await Promise.all(survivors.map((h) => h.run<number>('benchAwaitChildren', n, victim.name)));
        const ms = Math.max(...done) - killedAt;
        ctx.report({ name: 'registry.failover10k', value: ms, unit: 'ms' });
        process.stderr.write(`registry.failover10k: ${lost} children restarted on 2 survivors\n`);
      } finally {
        await close(ctx, c);
      }
    },
  },

  idle: {
    describe: '8 nodes, Registry with 1,000 names, synced: bytes each node writes per second while nothing changes (anti-entropy, ticks; from /proc/self/io)',
    reports: ['registry.idleBytesPerSec'],
    async run(ctx) {
      const c = await cluster(ctx, 8);
      try {
        await c.nodes[0]!.run('benchRegisterMany', 'idle:', 1000);
        await Promise.all(c.nodes.map((h) => h.run('benchAwaitNames', 1000)));
        const secs = ctx.quick ? 6 : 12;
        const io0 = await Promise.all(c.nodes.map((h) => h.run<{ written: number }>('benchIo')));
        const t0 = performance.now();
        await new Promise((r) => setTimeout(r, secs * 1000)); // the measured idle window itself
        const io1 = await Promise.all(c.nodes.map((h) => h.run<{ written: number }>('benchIo')));
        const el = (performance.now() - t0) / 1000;
        const per = io1.map((x, i) => (x.written - io0[i]!.written) / el);
        ctx.report({ name: 'registry.idleBytesPerSec', value: median(per), unit: 'B/s', runs: per });
      } finally {
        await close(ctx, c);
      }
    },
  },
};

/**
 * Heap per idle process (to take it out of the owner-side figure), measured
 * as owner 0's count grew between its samples: from `from` to `to` processes,
 * on a fresh node. The process table is a hash table whose capacity doubles:
 * spawning more on a node that already holds `to` processes misses that
 * growth (~57 B per process from 3.3k to 33k) and charged it to the names.
 */
async function procHeap(c: Cluster, from: number, to: number): Promise<number> {
  const h = await c.addNode('procs', { join: false });
  try {
    await h.run('benchSpawnIdle', from);
    const before = await h.run<number>('benchHeap');
    await h.run('benchSpawnIdle', to - from);
    return ((await h.run<number>('benchHeap')) - before) / (to - from);
  } finally {
    await h.stop();
  }
}

export const metrics: Record<string, MetricInfo> = {
  'registry.apply': { unit: 'msgs/s' },
  'registry.visibility.p50': { unit: 'ms', ratio: false },
  'registry.visibility.p99': { unit: 'ms', ratio: false, target: { op: '<=', value: 20 }, erlangNote: 'Horde syncs every 300 ms' },
  'registry.visibility8.p50': { unit: 'ms', ratio: false },
  'registry.visibility8.p99': { unit: 'ms', ratio: false, target: { op: '<=', value: 20 } },
  'registry.join10k': { unit: 'ms', target: { op: '<=', value: 1000 } },
  'registry.join100k': { unit: 'ms', target: { op: '<=', value: 2000 } },
  'registry.join100k.bytes': { unit: 'B' },
  'registry.bytesPerName': { unit: 'B', target: { op: '<=', value: 300 } },
  'registry.bytesPerName.owner': { unit: 'B', target: { op: '<=', value: 300 } },
  'registry.failover10k': { unit: 'ms', ratio: false, target: { op: '<=', value: 1000 }, erlangNote: 'target: detection (socket close: ~0 ms after SIGKILL) + 1 s' },
  'registry.idleBytesPerSec': { unit: 'B/s', target: { op: '<=', value: 2048 } },
};
