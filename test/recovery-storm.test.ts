/**
 * Recovery storm: durable-state children of a DistributedSupervisor, all on
 * one node process, move to the one survivor when that node is SIGKILLed;
 * each recovers its state from the store both processes share (one SQLite
 * file; a PostgreSQL server started for the test) and answers with it, and none fails recovery (no RecoveryTimeoutError, no
 * other abnormal exit). The node side is the `cluster` bench suite's
 * (bench/src/suites/cluster-failover-node.ts), which does the same with 10k
 * children and reports the time.
 *
 * The full 10k: starting them (a supervised start and a stored
 * write each) takes ~2 s on SQLite, ~6 s on PostgreSQL, and the storm
 * under 1 s on either on the 2-core box, so the test needs no smaller size. 10k recoveries queue ~300 deep behind each of
 * the node's 32 recovery permits. The timing is a bench figure
 * (`cluster.durableFailover10k`, `.pg`), printed here only for the log.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SqliteStore } from '@troupe/persistence/sqlite';
import { startTempPostgres, type TempPostgres } from '@troupe/persistence/testkit/postgres';
import type { CellStore } from '../bench/src/suites/cluster-failover-node.js';
import { FAST_TICKS, useClusters } from './helpers.js';

const NODE = new URL('../bench/src/suites/cluster-failover-node.ts', import.meta.url).pathname;
const CHILDREN = 10_000;
const start = useClusters();

let dir = '';
let pg: TempPostgres | undefined;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'troupe-storm-'));
  pg = await startTempPostgres();
}, 60_000);
afterAll(async () => {
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Stats {
  exits: Record<string, number>;
  recovered: number;
  live: number;
}

it.each(['sqlite', 'postgres'] as const)(`${CHILDREN} durable children (shared %s) move to the one survivor after a SIGKILL: all answer with their stored state, no recovery fails`, async (kind) => {
  let where: CellStore;
  if (kind === 'sqlite') {
    const path = join(dir, 'cells.db');
    await new SqliteStore({ path, writer: 'inline' }).close(); // the schema, before two processes open the file
    where = { kind, path };
  } else {
    where = { kind, url: pg!.connectionString };
  }
  // The victim alone first, so every child is placed on it; then the survivor joins (children do not move on a join).
  const c = await start({ nodes: ['victim'], scenarios: [NODE], transport: FAST_TICKS, logLevel: 'error', startTimeoutMs: 30_000 });
  const victim = c.node('victim');
  await victim.run('cfSetup', where);
  await victim.run('cfAwaitTargets', 1);
  expect(await victim.run<number>('cfStart', 0, CHILDREN)).toBe(CHILDREN);
  const survivor = await c.addNode('survivor');
  await survivor.run('cfSetup', where);
  await Promise.all([victim.run('cfAwaitTargets', 2), survivor.run('cfAwaitTargets', 2)]);
  expect(await victim.run<number>('cfLocal')).toBe(CHILDREN);
  expect(await survivor.run<number>('cfLocal')).toBe(0);

  const since = survivor.mark();
  const killedAt = await victim.kill();
  const down = await survivor.waitNodeDown(victim.name, { since, timeoutMs: 10_000 });
  const { at } = await survivor.run<{ at: number; retries: number }>('cfAwaitAnswers', CHILDREN, victim.name);
  const stats = await survivor.run<Stats>('cfStats');
  expect(stats.live).toBe(CHILDREN);
  expect(stats.recovered).toBe(CHILDREN);
  expect(stats.exits).toEqual({});
  console.log(`[recovery-storm] ${kind}, ${CHILDREN} children: nodedown ${(down.at - killedAt).toFixed(0)} ms after SIGKILL, all answering ${(at - killedAt).toFixed(0)} ms after`);
}, 180_000);
