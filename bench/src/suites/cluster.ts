/**
 * Suite `cluster`: durability across node processes (issue 14). Cases come
 * from one file per topic: reliable delivery (`cluster-reliable.ts`). The
 * baseline is a plain remote GenServer call between two node processes,
 * measured in its own child.
 */
import { fileURLToPath } from 'node:url';
import { GenServer, Node, silentLogger, type Pid } from '@troupe/actor-core';
import { WsTransport } from '@troupe/transport-ws';
import { startCluster } from '@troupe/harness';
import type { BenchCase, MetricInfo } from '../harness.js';
import { measureRate } from '../harness.js';
import { reliableCases, reliableMetrics } from './cluster-reliable.js';

const CONSUMER_NODE = fileURLToPath(new URL('./cluster-reliable-node.js', import.meta.url));

const baselineCase: BenchCase = {
  describe: 'sequential GenServer.call from node A to an echo server on node B (another process), 20k: calls/s — the suite baseline',
  reports: ['cluster.baseline.call'],
  async run(ctx) {
    const cluster = await startCluster({ nodes: ['bench_b'], connect: false, scenarios: [CONSUMER_NODE], runtime: 'dist', logLevel: 'warn' });
    const b = cluster.node('bench_b');
    const node = new Node({ name: 'bench_a@127.0.0.1', logger: silentLogger });
    const t = await WsTransport.start(node, { cookie: cluster.cookie });
    try {
      await t.connect(b.url);
      const { echo } = await b.run<{ echo: Pid }>('relConsumer');
      await measureRate(ctx, 'cluster.baseline.call', 'calls/s', ctx.n(20_000), async (n) => {
        const t0 = performance.now();
        for (let i = 0; i < n; i++) await GenServer.call(node, echo, i);
        return (performance.now() - t0) / 1e3;
      });
      ctx.addCpu(await b.run<number>('cpu'));
      await b.run('relClose');
    } finally {
      await cluster.stop();
      await t.close();
      node.shutdown();
    }
  },
};

export const baseline = 'baseline';

export const cases: Record<string, BenchCase> = { baseline: baselineCase, ...reliableCases };

export const metrics: Record<string, MetricInfo> = {
  'cluster.baseline.call': { unit: 'calls/s' },
  ...reliableMetrics,
};
