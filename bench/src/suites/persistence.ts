/**
 * Suite `persistence`: @troupe/persistence on its embedded store (SQLite,
 * WAL, a file in a temp directory) and on a real PostgreSQL started for the
 * case (Debian's binaries, a temp cluster on a loopback port, fsync and
 * synchronous_commit on). Servers are event-sourced bank accounts; a
 * persist is a call whose reply waits for the event's commit. The baseline
 * is bare better-sqlite3: one-row transactions into an in-memory database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { GenServer, Node, isStarted, silentLogger, type ServerRef } from '@troupe/actor-core';
import { eventSourced, type EventSourcedBehaviour, type Journal, type PersistenceStore } from '@troupe/persistence';
import { SqliteStore, type SqliteDurability } from '@troupe/persistence/sqlite';
import { PostgresStore } from '@troupe/persistence/postgres';
import { startTempPostgres, type TempPostgres } from '@troupe/persistence/testkit/postgres';
import { clockOverheadMs, percentile, type BenchCase, type CaseContext, type MetricInfo } from '../harness.js';

type Cmd = { amount: number } | 'balance';
/** ~200 bytes encoded, like the reference measurements' events. */
type Event = { amount: number; memo: string };
const MEMO = 'deposit '.repeat(24);
const account: EventSourcedBehaviour<number, Cmd, Event, number> = {
  persistenceId: (id) => `acct-${id}`,
  initialState: () => 0,
  handleCommand: (c, s) => (c === 'balance' ? { reply: s } : { events: [{ amount: c.amount, memo: MEMO }], reply: s + c.amount }),
  handleEvent: (s, e) => s + e.amount,
};
const DEPOSIT: Cmd = { amount: 1 };

function newNode(): Node {
  return new Node({ logger: silentLogger });
}

interface Bench {
  node: Node;
  store: PersistenceStore;
  close(): Promise<void>;
}

/** A node over `store`; `close` also runs `cleanup` (the temp directory, the PostgreSQL server). */
function over(store: PersistenceStore, cleanup: () => void | Promise<void>): Bench {
  const node = newNode();
  return {
    node,
    store,
    async close() {
      node.shutdown();
      await store.close();
      await cleanup();
    },
  };
}

function sqliteBench(durability: SqliteDurability): Bench {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-bench-sqlite-'));
  return over(new SqliteStore({ path: join(dir, 'bench.db'), durability }), () => rmSync(dir, { recursive: true, force: true }));
}

async function pgBench(): Promise<Bench> {
  const pg: TempPostgres = await startTempPostgres({ settings: { synchronous_commit: 'on', shared_buffers: '128MB' } });
  return over(await PostgresStore.open({ connectionString: pg.connectionString }), () => pg.stop());
}

async function startAccounts(node: Node, journal: Journal, ids: readonly string[]): Promise<ServerRef<Cmd, never, number>[]> {
  const refs = await Promise.all(
    ids.map(async (id) => {
      const r = await GenServer.start(node, eventSourced(account, { journal }), id);
      if (!isStarted(r)) throw new Error(`start ${id}: ${JSON.stringify(r)}`);
      return r.ok;
    }),
  );
  await Promise.all(refs.map((r) => GenServer.call(node, r, 'balance')));
  return refs;
}

/** `k` persists per server, each server one at a time, all servers at once; per-persist latency in `lat` (ms). */
async function persistLoop(node: Node, refs: readonly ServerRef<Cmd, never, number>[], k: number, lat: Float64Array | null): Promise<number> {
  const clock = clockOverheadMs();
  const t0 = performance.now();
  await Promise.all(
    refs.map(async (ref, s) => {
      for (let i = 0; i < k; i++) {
        const a = performance.now();
        await GenServer.call(node, ref, DEPOSIT);
        if (lat !== null) lat[s * k + i] = Math.max(0, performance.now() - a - clock);
      }
    }),
  );
  return (performance.now() - t0) / 1e3;
}

/** Rate over `runs` timed rounds (after a warm-up) and latency percentiles over all their persists. */
async function persistCase(ctx: CaseContext, b: Bench, servers: number, perServer: number, prefix: string, pcts: readonly number[]): Promise<void> {
  try {
    const refs = await startAccounts(
      b.node,
      b.store.journal,
      Array.from({ length: servers }, (_, i) => `${prefix}-${i}`),
    );
    await persistLoop(b.node, refs, Math.max(1, Math.floor(perServer / 5)), null);
    const rates: number[] = [];
    const lat = new Float64Array(servers * perServer * ctx.runs);
    for (let r = 0; r < ctx.runs; r++) {
      const part = lat.subarray(r * servers * perServer, (r + 1) * servers * perServer);
      const secs = await persistLoop(b.node, refs, perServer, part);
      rates.push((servers * perServer) / secs);
    }
    rates.sort((x, y) => x - y);
    ctx.report({ name: `${prefix}.rate`, value: rates[rates.length >> 1]!, unit: 'msgs/s', runs: rates });
    lat.sort();
    for (const p of pcts) ctx.report({ name: `${prefix}.p${p}`, value: percentile(lat, p), unit: 'ms' });
  } finally {
    await b.close();
  }
}

/** Writes `perId` events for each id straight into the journal, 1000 per append. */
async function seed(journal: Journal, ids: readonly string[], perId: number): Promise<void> {
  const pending: Promise<void>[] = [];
  for (const id of ids) {
    for (let done = 0; done < perId; ) {
      const k = Math.min(1000, perId - done);
      pending.push(journal.append({ id, expectedSeq: done, events: Array.from({ length: k }, () => ({ event: { amount: 1, memo: MEMO }, version: 1 })) }));
      done += k;
      if (pending.length >= 256) await Promise.all(pending.splice(0));
    }
  }
  await Promise.all(pending);
}

/** ms from starting `ids` (all at once) until every one has answered a call with its recovered balance. */
async function recoverAll(journal: Journal, ids: readonly string[], expected: number): Promise<number> {
  const node = newNode();
  try {
    const t0 = performance.now();
    const refs = await startAccounts(node, journal, ids);
    const ms = performance.now() - t0;
    const b = await GenServer.call(node, refs[0]!, 'balance');
    if (b !== expected) throw new Error(`recovered balance ${b}, expected ${expected}`);
    return ms;
  } finally {
    node.shutdown();
  }
}

/** Seeds `perId` events for each id on SQLite, then reports the median over runs of `figure(ms to recover them all)`. */
async function recoveryCase(ctx: CaseContext, ids: readonly string[], perId: number, name: string, figure: (ms: number) => number, unit: 'ms' | 'msgs/s'): Promise<void> {
  const b = sqliteBench('normal');
  try {
    await seed(b.store.journal, ids.map((id) => `acct-${id}`), perId);
    await recoverAll(b.store.journal, ids, perId); // warm-up
    const runs: number[] = [];
    for (let i = 0; i < ctx.runs; i++) runs.push(figure(await recoverAll(b.store.journal, ids, perId)));
    runs.sort((x, y) => x - y);
    ctx.report({ name, value: runs[runs.length >> 1]!, unit, runs });
  } finally {
    await b.close();
  }
}

/** Worst lateness of a 1 ms timer chain while `work` runs. */
async function worstLag(work: () => Promise<unknown>): Promise<number> {
  let worst = 0;
  let running = true;
  let last = performance.now();
  const tick = (): void => {
    const now = performance.now();
    worst = Math.max(worst, now - last - 1);
    last = now;
    if (running) setTimeout(tick, 1);
  };
  setTimeout(tick, 1);
  await work();
  running = false;
  await new Promise((r) => setTimeout(r, 3));
  return worst;
}

function bareInserts(n: number): number {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (id TEXT NOT NULL, seq INTEGER NOT NULL, payload BLOB NOT NULL, PRIMARY KEY (id, seq)) WITHOUT ROWID');
  const ins = db.prepare('INSERT INTO t VALUES (?, ?, ?)');
  const one = db.transaction((i: number) => ins.run('x', i, Buffer.from(MEMO)));
  const t0 = performance.now();
  for (let i = 0; i < n; i++) one(i);
  const secs = (performance.now() - t0) / 1e3;
  db.close();
  return secs;
}

export const baseline = 'baseline';
export const probe = bareInserts;
export const probeN = 50_000;

export const cases: Record<string, BenchCase> = {
  baseline: {
    describe: 'bare better-sqlite3: one-row transactions into an in-memory table, 200k: the ratio baseline',
    reports: ['persistence.baseline'],
    async run(ctx) {
      const n = ctx.n(200_000, 1);
      bareInserts(n / 5);
      const rates: number[] = [];
      for (let i = 0; i < ctx.runs; i++) rates.push(n / bareInserts(n));
      rates.sort((a, b) => a - b);
      ctx.report({ name: 'persistence.baseline', value: rates[rates.length >> 1]!, unit: 'msgs/s', runs: rates });
    },
  },
  sqlitePersist: {
    describe: 'one server, persist → reply, SQLite default durability (WAL, synchronous=NORMAL), 20k persists',
    reports: ['persistence.sqlite.persist.rate', 'persistence.sqlite.persist.p99'],
    run: (ctx) => persistCase(ctx, sqliteBench('normal'), 1, ctx.n(20_000), 'persistence.sqlite.persist', [99]),
  },
  sqliteFull: {
    describe: 'one server, persist → reply, SQLite synchronous=FULL (fsync every commit), 5k persists',
    reports: ['persistence.sqlite.full.rate', 'persistence.sqlite.full.p99'],
    run: (ctx) => persistCase(ctx, sqliteBench('full'), 1, ctx.n(5_000), 'persistence.sqlite.full', [99]),
  },
  sqliteBatched: {
    describe: '1,000 servers persisting at once (each one at a time), SQLite FULL: events/s, writes grouped per commit',
    reports: ['persistence.sqlite.batched.rate'],
    run: (ctx) => persistCase(ctx, sqliteBench('full'), 1000, ctx.n(50), 'persistence.sqlite.batched', []),
  },
  pgPersist: {
    describe: 'one server, persist → reply, PostgreSQL (synchronous_commit=on), 3k persists',
    reports: ['persistence.pg.persist.rate', 'persistence.pg.persist.p50'],
    run: async (ctx) => persistCase(ctx, await pgBench(), 1, ctx.n(3_000), 'persistence.pg.persist', [50]),
  },
  pgBatched: {
    describe: '1,000 servers persisting at once on PostgreSQL: events/s (multi-row statements across servers) and p99 per persist',
    reports: ['persistence.pg.batched.rate', 'persistence.pg.batched.p99'],
    run: async (ctx) => persistCase(ctx, await pgBench(), 1000, ctx.n(50), 'persistence.pg.batched', [99]),
  },
  replay: {
    describe: 'one server recovering 100k events from SQLite (read, decode, fold): events/s',
    reports: ['persistence.replay.rate'],
    run: (ctx) => {
      const n = ctx.n(100_000);
      return recoveryCase(ctx, ['replay'], n, 'persistence.replay.rate', (ms) => n / (ms / 1e3), 'msgs/s');
    },
  },
  recover10k: {
    describe: 'restart storm: 10k servers (10 events each, SQLite) started at once until all answer, default recovery concurrency',
    reports: ['persistence.recover10k'],
    run: (ctx) => {
      const ids = Array.from({ length: ctx.n(10_000) }, (_, i) => `storm-${i}`);
      return recoveryCase(ctx, ids, 10, 'persistence.recover10k', (ms) => ms, 'ms');
    },
  },
  lag: {
    describe: 'worst event-loop lag (1 ms timer lateness) while 1,000 servers persist at full rate on SQLite FULL',
    reports: ['persistence.lag'],
    async run(ctx) {
      const b = sqliteBench('full');
      try {
        const refs = await startAccounts(
          b.node,
          b.store.journal,
          Array.from({ length: 1000 }, (_, i) => `lag-${i}`),
        );
        const k = ctx.n(50);
        await persistLoop(b.node, refs, Math.max(1, k >> 2), null);
        const runs: number[] = [];
        for (let i = 0; i < ctx.runs; i++) runs.push(await worstLag(() => persistLoop(b.node, refs, k, null)));
        ctx.report({ name: 'persistence.lag', value: Math.max(...runs), unit: 'ms', runs });
      } finally {
        await b.close();
      }
    },
  },
};

export const metrics: Record<string, MetricInfo> = {
  'persistence.baseline': { unit: 'msgs/s' },
  'persistence.sqlite.persist.rate': { unit: 'msgs/s', target: { op: '>=', value: 10_000 } },
  'persistence.sqlite.persist.p99': { unit: 'ms', target: { op: '<=', value: 1 } },
  'persistence.sqlite.full.rate': { unit: 'msgs/s', target: { op: '>=', value: 2_000 } },
  'persistence.sqlite.full.p99': { unit: 'ms', target: { op: '<=', value: 5 } },
  'persistence.sqlite.batched.rate': { unit: 'msgs/s', target: { op: '>=', value: 30_000 } },
  'persistence.pg.persist.rate': { unit: 'msgs/s', target: { op: '>=', value: 1_500 } },
  'persistence.pg.persist.p50': { unit: 'ms', target: { op: '<=', value: 0.6 } },
  'persistence.pg.batched.rate': { unit: 'msgs/s', target: { op: '>=', value: 50_000 } },
  'persistence.pg.batched.p99': { unit: 'ms', target: { op: '<=', value: 15 } },
  'persistence.replay.rate': { unit: 'msgs/s', target: { op: '>=', value: 200_000 } },
  'persistence.recover10k': { unit: 'ms', target: { op: '<=', value: 2_000 } },
  'persistence.lag': { unit: 'ms', target: { op: '<=', value: 10 } },
};

