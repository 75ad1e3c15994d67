/**
 * The `cluster` suite's reliable-delivery cases: a ReliableProducer in the
 * case's own process (node A) sends to an event-sourced consumer on node B,
 * a separate node process (@troupe/harness, built JavaScript) with its own
 * SQLite store (WAL, default durability); a message counts once B confirmed
 * it, i.e. once its event and the producer's mark are committed. The plain
 * remote GenServer call to an echo server on the same B, in the same run, is
 * what the one-in-flight latency is compared with.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteStore } from '@troupe/persistence/sqlite';
import { GenServer, Node, type Pid } from '@troupe/actor-core';
import { ReliableProducer } from '@troupe/persistence';
import { WsTransport } from '@troupe/transport-ws';
import { startCluster, type NodeHandle } from '@troupe/harness';
import { clockOverheadMs, measureRate, percentile, type BenchCase, type CaseContext, type MetricInfo, errorsOnly } from '../harness.js';
import type { BenchItem } from './cluster-reliable-node.js';

const CONSUMER_NODE = fileURLToPath(new URL('./cluster-reliable-node.js', import.meta.url));
const MEMO = 'x'.repeat(100);


interface Pair {
  node: Node;
  b: NodeHandle;
  ledger: Pid;
  ledgerInline: Pid;
  echo: Pid;
  close(): Promise<void>;
}

/** Node A here, node B (the consumer and an echo server) in a child process, connected. */
async function pair(ctx: CaseContext): Promise<Pair> {
  const cluster = await startCluster({ nodes: ['bench_b'], connect: false, scenarios: [CONSUMER_NODE], runtime: 'dist', logLevel: 'warn' });
  const b = cluster.node('bench_b');
  const node = new Node({ name: 'bench_a@127.0.0.1', logger: errorsOnly });
  const t = await WsTransport.start(node, { cookie: cluster.cookie });
  await t.connect(b.url);
  const { ledger, ledgerInline, echo } = await b.run<{ ledger: Pid; ledgerInline: Pid; echo: Pid }>('relConsumer');
  return {
    node,
    b,
    ledger,
    ledgerInline,
    echo,
    async close() {
      if (b.alive) {
        ctx.addCpu(await b.run<number>('cpu'));
        await b.run('relClose');
      }
      await cluster.stop();
      await t.close();
      node.shutdown();
    },
  };
}

let seq = 0;
const item = (): BenchItem => ({ n: ++seq, memo: MEMO });

/** n sends at once (the producer keeps `window` in flight, the rest queued); seconds until the last is confirmed. */
async function confirmedRate(p: ReliableProducer<BenchItem>, n: number): Promise<number> {
  const t0 = performance.now();
  const all = new Array<Promise<number>>(n);
  for (let i = 0; i < n; i++) all[i] = p.send(item());
  await Promise.all(all);
  return (performance.now() - t0) / 1e3;
}

/** One message in flight: ms from send to confirmation, per message. */
async function oneInFlight(p: ReliableProducer<BenchItem>, samples: Float64Array, clock: number): Promise<void> {
  for (let i = 0; i < samples.length; i++) {
    const a = performance.now();
    await p.send(item());
    samples[i] = Math.max(0, performance.now() - a - clock);
  }
}

async function plainCalls(node: Node, echo: Pid, samples: Float64Array, clock: number): Promise<void> {
  const msg = item();
  for (let i = 0; i < samples.length; i++) {
    const a = performance.now();
    await GenServer.call(node, echo, msg);
    samples[i] = Math.max(0, performance.now() - a - clock);
  }
}

export const reliableCases: Record<string, BenchCase> = {
  reliable: {
    describe:
      'ReliableProducer (window 50) → event-sourced consumer on another node process (SQLite, WAL, default writer thread): confirmed msgs/s (200k); ms per confirmed message with one in flight (5k), against a plain remote GenServer.call to the same node (5k); the same with the store writer inline on the event loop; and the confirmed rate with a durable outbox (SQLite) on the producer (100k)',
    reports: [
      'cluster.reliable.rate',
      'cluster.reliable.p50',
      'cluster.reliable.p99',
      'cluster.reliable.plainCall.p50',
      'cluster.reliable.p50ratio',
      'cluster.reliable.inlineWriter.rate',
      'cluster.reliable.inlineWriter.p50',
      'cluster.reliable.inlineWriter.p50ratio',
      'cluster.reliable.outbox.rate',
    ],
    async run(ctx) {
      const p = await pair(ctx);
      try {
        const producer = await ReliableProducer.start<BenchItem>(p.node, { producerId: 'bench', target: p.ledger, maxBuffered: 1_000_000 });
        const producerInline = await ReliableProducer.start<BenchItem>(p.node, { producerId: 'bench-inline', target: p.ledgerInline, maxBuffered: 1_000_000 });
        await measureRate(ctx, 'cluster.reliable.rate', 'msgs/s', ctx.n(200_000), (n) => confirmedRate(producer, n));
        await measureRate(ctx, 'cluster.reliable.inlineWriter.rate', 'msgs/s', ctx.n(200_000), (n) => confirmedRate(producerInline, n));
        const clock = clockOverheadMs();
        const n = ctx.n(5000);
        const q = Math.max(1, n >> 2);
        await oneInFlight(producer, new Float64Array(q), clock); // warm-up
        await oneInFlight(producerInline, new Float64Array(q), clock);
        await plainCalls(p.node, p.echo, new Float64Array(q), clock);
        // Interleaved quarters, so a drift of the machine's speed hits all three alike.
        const rel = new Float64Array(n);
        const inl = new Float64Array(n);
        const call = new Float64Array(n);
        for (let k = 0; k < 4; k++) {
          const from = Math.floor((k * n) / 4);
          const to = Math.floor(((k + 1) * n) / 4);
          await oneInFlight(producer, rel.subarray(from, to), clock);
          await oneInFlight(producerInline, inl.subarray(from, to), clock);
          await plainCalls(p.node, p.echo, call.subarray(from, to), clock);
        }
        rel.sort();
        inl.sort();
        call.sort();
        const callP50 = percentile(call, 50);
        ctx.report({ name: 'cluster.reliable.p50', value: percentile(rel, 50), unit: 'ms' });
        ctx.report({ name: 'cluster.reliable.p99', value: percentile(rel, 99), unit: 'ms' });
        ctx.report({ name: 'cluster.reliable.plainCall.p50', value: callP50, unit: 'ms' });
        ctx.report({ name: 'cluster.reliable.p50ratio', value: percentile(rel, 50) / callP50, unit: '×' });
        ctx.report({ name: 'cluster.reliable.inlineWriter.p50', value: percentile(inl, 50), unit: 'ms' });
        ctx.report({ name: 'cluster.reliable.inlineWriter.p50ratio', value: percentile(inl, 50) / callP50, unit: '×' });
        await producer.stop();
        await producerInline.stop();
        // With a durable outbox on A (SQLite, WAL): each message is stored before it is sent and deleted once confirmed.
        const dir = mkdtempSync(join(tmpdir(), 'troupe-bench-outbox-'));
        const outbox = new SqliteStore({ path: join(dir, 'outbox.db') });
        try {
          const durable = await ReliableProducer.start<BenchItem>(p.node, { producerId: 'bench-outbox', target: p.ledger, maxBuffered: 1_000_000, outbox: outbox.journal });
          await measureRate(ctx, 'cluster.reliable.outbox.rate', 'msgs/s', ctx.n(100_000), (k) => confirmedRate(durable, k));
          await durable.stop();
        } finally {
          await outbox.close();
          rmSync(dir, { recursive: true, force: true });
        }
      } finally {
        await p.close();
      }
    },
  },
};

export const reliableMetrics: Record<string, MetricInfo> = {
  'cluster.reliable.rate': { unit: 'msgs/s', target: { op: '>=', value: 20_000 } },
  'cluster.reliable.p50': { unit: 'ms', ratioTo: 'cluster.reliable.plainCall.p50' },
  'cluster.reliable.p99': { unit: 'ms', ratioTo: 'cluster.reliable.plainCall.p50' },
  'cluster.reliable.plainCall.p50': { unit: 'ms' },
  'cluster.reliable.p50ratio': { unit: '×', ratio: false, target: { op: '<=', value: 2 } },
  'cluster.reliable.inlineWriter.rate': { unit: 'msgs/s', target: { op: '>=', value: 20_000 } },
  'cluster.reliable.inlineWriter.p50': { unit: 'ms', ratioTo: 'cluster.reliable.plainCall.p50' },
  'cluster.reliable.inlineWriter.p50ratio': { unit: '×', ratio: false, target: { op: '<=', value: 2 } },
  'cluster.reliable.outbox.rate': { unit: 'msgs/s' },
};
