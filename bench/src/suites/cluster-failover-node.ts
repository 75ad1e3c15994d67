/**
 * The node side of the `cluster` suite's failover case, and of the
 * recovery-storm test (test/recovery-storm.test.ts loads this file as its
 * scenarios): durable-state "cells" run by a DistributedSupervisor over a
 * store every node process opens (one SQLite file, or PostgreSQL), named in
 * a cluster Registry.
 * Imported only inside @troupe/harness node processes.
 */
import { CallExitError, GenServer, NoProcError, type Node, type ExitReason } from '@troupe/actor-core';
import { DistributedSupervisor, Registry } from '@troupe/registry-crdt';
import { durableState, setMaxConcurrentRecoveries, type DurableStateBehaviour, type PersistenceStore } from '@troupe/persistence';
import { SqliteStore } from '@troupe/persistence/sqlite';
import { PostgresStore } from '@troupe/persistence/postgres';
import type { Scenarios, ScenarioEnv } from '@troupe/harness';

export interface Cell {
  name: string;
  value: number;
}
type CellCmd = { op: 'set'; value: number } | { op: 'get' };

/** The value each cell is given before the kill, so an answer after it shows recovered state (not a fresh start). */
export const cellValue = (i: number): number => i * 7 + 1;
export const cellName = (i: number): string => `cell:${i}`;

/** The store every node opens: one SQLite file, or a PostgreSQL database. */
export type CellStore = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

/** `scope`: a prefix of the store keys, so runs sharing one database do not meet. */
const cellBehaviour = (scope: string): DurableStateBehaviour<Cell, CellCmd, Cell> => ({
  name: 'bench_cell',
  persistenceId: (name) => `cell:${scope}:${name}`,
  initialState: (name) => ({ name, value: 0 }),
  handleCommand: (cmd, s) => (cmd.op === 'get' ? { reply: s } : { state: { name: s.name, value: cmd.value }, reply: { name: s.name, value: cmd.value } }),
});

interface Services {
  store: PersistenceStore;
  reg: Registry;
  sup: DistributedSupervisor;
  /** Live cell processes here: pid key → name. */
  live: Map<string, string>;
  /** Exits of cells here, by reason text (a RecoveryTimeoutError shows as TROUPE_ERR_RECOVERY_TIMEOUT). */
  exits: Map<string, number>;
  recovered: number;
}

function svc(env: ScenarioEnv): Services {
  const s = env.store.get('cells') as Services | undefined;
  if (s === undefined) throw new Error(`${env.node.name}: run cfSetup first`);
  return s;
}

function wall(): number {
  return performance.timeOrigin + performance.now();
}

function reasonText(r: ExitReason): string {
  if (typeof r === 'string') return r;
  try {
    return JSON.stringify(r).slice(0, 200);
  } catch {
    return String(r);
  }
}

async function until(node: Node, cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`${node.name}: timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export const scenarios: Scenarios = {
  /** Opens the shared store, registers `cell`, starts Registry and DistributedSupervisor `cells`. */
  async cfSetup(env, where: CellStore, opts: { maxRecoveries?: number; scope?: string } = {}): Promise<true> {
    const node = env.node;
    const store = where.kind === 'sqlite' ? new SqliteStore({ path: where.path }) : await PostgresStore.open({ connectionString: where.url });
    if (opts.maxRecoveries !== undefined) setMaxConcurrentRecoveries(node, opts.maxRecoveries);
    const s: Services = { store, reg: undefined as unknown as Registry, sup: undefined as unknown as DistributedSupervisor, live: new Map(), exits: new Map(), recovered: 0 };
    node.events.on('exit', (e) => {
      if (!s.live.delete(e.pid.key)) return;
      const why = reasonText(e.reason);
      s.exits.set(why, (s.exits.get(why) ?? 0) + 1);
    });
    const server = durableState({ ...cellBehaviour(opts.scope ?? 'cells'), onRecovered: () => void s.recovered++ }, { states: store.states });
    DistributedSupervisor.registerBehaviour<undefined, never>(node, 'cell', {
      start: async (sup, _args, info) => {
        const r = await GenServer.startLink(sup, server, info.id);
        if (typeof r === 'object' && 'ok' in r) s.live.set(r.ok.key, info.id);
        return r;
      },
    });
    const timing = { discoveryMs: 200, antiEntropyMs: 1000 };
    s.reg = await Registry.start(node, { name: 'cells', ...timing });
    s.sup = await DistributedSupervisor.start(node, { name: 'cells', registry: s.reg, orphanGraceMs: 500, ...timing });
    env.store.set('cells', s);
    return true;
  },

  async cfAwaitTargets(env, n: number, timeoutMs = 30_000): Promise<void> {
    const { sup } = svc(env);
    await until(env.node, () => sup.targets().length === n, timeoutMs, `${n} placement targets`);
  },

  /** Starts cells `from..to-1` and stores each one's value (a write per cell); `window` at once. Resolves to how many. */
  async cfStart(env, from: number, to: number, window = 128): Promise<number> {
    const { sup } = svc(env);
    let next = from;
    let ok = 0;
    const worker = async (): Promise<void> => {
      while (next < to) {
        const i = next++;
        const r = await sup.startChild({ behaviour: 'cell', name: cellName(i) });
        if (typeof r !== 'object' || !('ok' in r)) throw new Error(`start ${cellName(i)}: ${JSON.stringify(r)}`);
        await GenServer.call(env.node, r.ok, { op: 'set', value: cellValue(i) } satisfies CellCmd, 30_000);
        ok++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(window, to - from) }, worker));
    return ok;
  },

  /** Cells running here. */
  cfLocal(env): number {
    return svc(env).live.size;
  },

  /**
   * Asks every cell `0..n-1` for its state through the registry, `window` at
   * once, until each answers with its stored value; a name still pointing at
   * `dead`, or not yet restarted, is asked again. Resolves to the wall time
   * of the last answer and how many asks failed on the way.
   */
  async cfAwaitAnswers(env, n: number, dead: string, window = 256, timeoutMs = 120_000): Promise<{ at: number; retries: number }> {
    const { reg } = svc(env);
    const t0 = performance.now();
    let next = 0;
    let retries = 0;
    const ask = async (i: number): Promise<void> => {
      const name = cellName(i);
      for (;;) {
        if (performance.now() - t0 > timeoutMs) throw new Error(`${env.node.name}: ${name} did not answer within ${timeoutMs} ms`);
        const pid = reg.whereisName(name);
        if (pid !== undefined && pid.node !== dead) {
          try {
            const c = await GenServer.call<Cell>(env.node, pid, { op: 'get' } satisfies CellCmd, 30_000);
            if (c.value !== cellValue(i)) throw new Error(`${name} answered ${JSON.stringify(c)}, stored value ${cellValue(i)}`);
            return;
          } catch (e) {
            // A pid that died under the call (a duplicate resolved, a restart): ask again.
            if (!(e instanceof NoProcError || e instanceof CallExitError)) throw e;
          }
        }
        retries++;
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    const worker = async (): Promise<void> => {
      while (next < n) await ask(next++);
    };
    await Promise.all(Array.from({ length: Math.min(window, n) }, worker));
    return { at: wall(), retries };
  },

  /** Cell exits here by reason, and how many cells recovered here. */
  cfStats(env): { exits: Record<string, number>; recovered: number; live: number } {
    const s = svc(env);
    return { exits: Object.fromEntries(s.exits), recovered: s.recovered, live: s.live.size };
  },
};
