/**
 * Suite `cluster`: durable state across node processes (issue 14). The
 * failover cases are in cluster-failover.ts. The baseline is what recovery
 * does per child, bare: reads of one stored row by key from a SQLite file
 * (better-sqlite3, in this process), so the ratio tracks machine and disk speed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { BenchCase, MetricInfo } from '../harness.js';
import { failoverCases, failoverMetrics } from './cluster-failover.js';

/** n point reads of 10k rows of ~100 bytes; seconds. */
function bareReads(db: Database.Database, n: number): number {
  const get = db.prepare('SELECT v FROM t WHERE k = ?').pluck();
  const t0 = performance.now();
  let bytes = 0;
  for (let i = 0; i < n; i++) bytes += (get.get(`k${i % 10_000}`) as Buffer).length;
  if (bytes === 0) throw new Error('no rows read');
  return (performance.now() - t0) / 1e3;
}

const base: BenchCase = {
  describe: 'baseline: point reads of one ~100-byte row by key from a SQLite file (WAL), bare better-sqlite3 in this process',
  reports: ['cluster.baseline'],
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
      ctx.report({ name: 'cluster.baseline', value: rates[rates.length >> 1]!, unit: 'calls/s', runs: rates });
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export const cases: Record<string, BenchCase> = { base, ...failoverCases };
export const baseline = 'base';
export const metrics: Record<string, MetricInfo> = { 'cluster.baseline': { unit: 'calls/s' }, ...failoverMetrics };
