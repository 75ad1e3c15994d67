/**
 * Suite `cluster`: durability across node processes (issue 14). Cases come
 * from one file per topic: durable failover (`cluster-failover.ts`) and
 * reliable delivery (`cluster-reliable.ts`). The baseline is a plain remote
 * GenServer call between two node processes, measured in its own child;
 * `sqliteReads` is what recovery does per child, bare: reads of one stored
 * row by key from a SQLite file (better-sqlite3, in this process).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { fileURLToPath } from 'node:url';
import { GenServer, Node, silentLogger, type Pid } from '@troupe/actor-core';
import { WsTransport } from '@troupe/transport-ws';
import { startCluster } from '@troupe/harness';
import type { BenchCase, MetricInfo } from '../harness.js';
import { measureRate } from '../harness.js';
import { failoverCases, failoverMetrics } from './cluster-failover.js';
import { reliableCases, reliableMetrics } from './cluster-reliable.js';

/** n point reads of 10k rows of ~100 bytes; seconds. */
function bareReads(db: Database.Database, n: number): number {
  const get = db.prepare('SELECT v FROM t WHERE k = ?').pluck();
  const t0 = performance.now();
  let bytes = 0;
  for (let i = 0; i < n; i++) bytes += (get.get(`k${i % 10_000}`) as Buffer).length;
  if (bytes === 0) throw new Error('no rows read');
  return (performance.now() - t0) / 1e3;
}

const sqliteReads: BenchCase = {
  describe: 'point reads of one ~100-byte row by key from a SQLite file (WAL), bare better-sqlite3 in this process',
  reports: ['cluster.sqliteReads'],
  async run(ctx) {
    const dir = mkdtempSync(join(tmpdir(), 'troupe-bench-cluster-'));
    const db = new Database(join(dir, 'base.db'));
    try {
      db.pragma('journal_mode = WAL');
      db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v BLOB NOT NULL)');
      const put = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
      db.transaction(() => {
        for (let i = 0; i < 10_000; i++) put.run(`k${i}`, Buffer.alloc(100, i & 255));
      })();
      const n = ctx.n(200_000);
      bareReads(db, n / 5);
      const rates: number[] = [];
      for (let i = 0; i < ctx.runs; i++) rates.push(n / bareReads(db, n));
      rates.sort((a, b) => a - b);
      ctx.report({ name: 'cluster.sqliteReads', value: rates[rates.length >> 1]!, unit: 'calls/s', runs: rates });
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

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

export const cases: Record<string, BenchCase> = { baseline: baselineCase, sqliteReads, ...failoverCases, ...reliableCases };

export const metrics: Record<string, MetricInfo> = {
  'cluster.baseline.call': { unit: 'calls/s' },
  'cluster.sqliteReads': { unit: 'calls/s' },
  ...failoverMetrics,
  ...reliableMetrics,
};
