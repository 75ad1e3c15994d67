/**
 * The `cluster` suite's failover cases: durable children (durable-state
 * servers under a DistributedSupervisor, @troupe/persistence over one SQLite
 * file every node process opens) moving to the one survivor after a SIGKILL
 * of their node. Node processes are @troupe/harness children (built
 * JavaScript) running cluster-failover-node.ts; this process drives them and
 * takes their wall-clock event times.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteStore } from '@troupe/persistence/sqlite';
import { startTempPostgres } from '@troupe/persistence/testkit/postgres';
import { startCluster } from '@troupe/harness';
import type { CellStore } from './cluster-failover-node.js';
import { median, type BenchCase, type CaseContext, type MetricInfo } from '../harness.js';
import { processCpuSeconds } from '../noise.js';

const NODE = fileURLToPath(new URL('./cluster-failover-node.js', import.meta.url));
/** As the cross-process tests: a SIGKILLed node's sockets close at once, the tick timeout is only the fallback. */
const TRANSPORT = { tickMs: 250, tickTimeoutMs: 1000 };

/** CPU time (user + system) of an OS process so far, µs; 0 if it is gone. */
function cpuMicros(pid: number | undefined): number {
  return pid === undefined ? 0 : (processCpuSeconds(pid) ?? 0) * 1e6;
}

let stormSeq = 0;

interface Run {
  /** SIGKILL → every child answered with its stored state, ms. */
  total: number;
  /** SIGKILL → the survivor's nodedown, ms. */
  detection: number;
  /** CPU both node processes used, µs (the case's own work, not noise). */
  cpuMicros: number;
  recovered: number;
  exits: Record<string, number>;
  retries: number;
}

/**
 * One storm: the victim alone starts `n` cells (so all are placed on it) and
 * stores a value in each; the survivor joins; SIGKILL of the victim; the
 * survivor asks every cell for its state until each answers with its value.
 */
async function storm(n: number, pgUrl?: string): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-bench-failover-'));
  const path = join(dir, 'cells.db');
  if (pgUrl === undefined) await new SqliteStore({ path, writer: 'inline' }).close(); // the schema, before two processes open the file
  const where: CellStore = pgUrl === undefined ? { kind: 'sqlite', path } : { kind: 'postgres', url: pgUrl };
  // Each storm its own keys: runs on one PostgreSQL database do not recover each other's cells.
  const scope = `storm-${stormSeq++}`;
  const c = await startCluster({ nodes: ['victim'], scenarios: [NODE], runtime: 'dist', logLevel: 'error', transport: TRANSPORT, startTimeoutMs: 30_000 });
  try {
    const victim = c.node('victim');
    await victim.run('cfSetup', where, { scope });
    await victim.run('cfAwaitTargets', 1);
    const started = await victim.run<number>('cfStart', 0, n);
    if (started !== n) throw new Error(`started ${started} of ${n} cells`);
    const survivor = await c.addNode('survivor');
    await survivor.run('cfSetup', where, { scope });
    await Promise.all([victim.run('cfAwaitTargets', 2), survivor.run('cfAwaitTargets', 2)]);
    const onVictim = await victim.run<number>('cfLocal');
    if (onVictim !== n) throw new Error(`${onVictim} of ${n} cells on the victim before the kill`);
    const since = survivor.mark();
    const victimCpu = cpuMicros(victim.osPid);
    const killedAt = await victim.kill();
    const down = await survivor.waitNodeDown(victim.name, { since, timeoutMs: 30_000 });
    const { at, retries } = await survivor.run<{ at: number; retries: number }>('cfAwaitAnswers', n, victim.name);
    const stats = await survivor.run<{ exits: Record<string, number>; recovered: number }>('cfStats');
    return { total: at - killedAt, detection: down.at - killedAt, cpuMicros: victimCpu + cpuMicros(survivor.osPid), recovered: stats.recovered, exits: stats.exits, retries };
  } finally {
    await c.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `count` storms of `n` children (median), reported as `name`; with `pg`, on a PostgreSQL started for the case. */
async function stormCase(ctx: CaseContext, name: string, pg: boolean, detection: string | null): Promise<void> {
  const n = ctx.n(10_000, 5);
  const server = pg ? await startTempPostgres() : undefined;
  const runs: Run[] = [];
  try {
    // A storm costs a fresh cluster and 10k starts (~3 s): fewer runs than the default.
    const count = Math.min(ctx.runs, 3);
    for (let i = 0; i < count; i++) runs.push(await storm(n, server?.connectionString));
  } finally {
    await server?.stop();
  }
  ctx.addCpu(runs.reduce((a, r) => a + r.cpuMicros, 0));
  for (const r of runs) {
    const bad = Object.entries(r.exits);
    process.stderr.write(
      `${name}: ${n} children, detection ${r.detection.toFixed(0)} ms, all answering ${r.total.toFixed(0)} ms after SIGKILL; ${r.recovered} recovered, ${r.retries} asks repeated` +
        (bad.length > 0 ? `; exits: ${JSON.stringify(r.exits)}` : '; no recovery failed') +
        '\n',
    );
    if (r.recovered < n) throw new Error(`only ${r.recovered} of ${n} children recovered`);
    if (bad.length > 0) throw new Error(`children exited during the storm: ${JSON.stringify(r.exits)}`);
  }
  const totals = runs.map((r) => r.total);
  ctx.report({ name, value: median(totals), unit: 'ms', runs: totals });
  if (detection !== null) {
    const detections = runs.map((r) => r.detection);
    ctx.report({ name: detection, value: median(detections), unit: 'ms', runs: detections });
  }
}

export const failoverCases: Record<string, BenchCase> = {
  durableFailover: {
    describe:
      '2 node processes on one SQLite file: 10k durable-state children on one, SIGKILL of it; ms until every child answers on the survivor with its stored state, and ms until the survivor saw nodedown',
    reports: ['cluster.durableFailover10k', 'cluster.failover.detection'],
    run: (ctx) => stormCase(ctx, 'cluster.durableFailover10k', false, 'cluster.failover.detection'),
  },
  durableFailoverPg: {
    describe: 'the same storm on PostgreSQL (a temp server, default settings) shared by both node processes',
    reports: ['cluster.durableFailover10k.pg'],
    run: (ctx) => stormCase(ctx, 'cluster.durableFailover10k.pg', true, null),
  },
};

export const failoverMetrics: Record<string, MetricInfo> = {
  // The target is detection + 2 s; a SIGKILLed node's sockets close at once, so detection is tens of ms (next figure).
  'cluster.durableFailover10k': { unit: 'ms', ratio: false, target: { op: '<=', value: 2000 }, erlangNote: 'target: detection (cluster.failover.detection) + 2 s' },
  'cluster.failover.detection': { unit: 'ms', ratio: false },
  'cluster.durableFailover10k.pg': { unit: 'ms', ratio: false, target: { op: '<=', value: 2000 }, erlangNote: 'target: detection + 2 s, as on SQLite' },
};
