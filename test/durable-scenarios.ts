/**
 * Scenarios for the durable-cluster tests (test/durable-cluster.test.ts):
 * event-sourced bank accounts run as DistributedSupervisor children on a
 * store shared by every node process (one SQLite file, or PostgreSQL), with
 * a cluster Registry naming them. Loaded next to test/scenarios.ts.
 */
import { CallExitError, GenServer, NoProcError, type Node, type ExitReason } from '@troupe/actor-core';
import { DistributedSupervisor, Registry } from '@troupe/registry-crdt';
import { eventSourced, type EventSourcedBehaviour, type PersistenceStore } from '@troupe/persistence';
import { SqliteStore } from '@troupe/persistence/sqlite';
import { PostgresStore } from '@troupe/persistence/postgres';
import type { Scenarios, ScenarioEnv } from '@troupe/harness';

/** Where the shared store lives. */
export type StoreConfig = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

export interface Deposit {
  op: 'deposit';
  id: string;
  amount: number;
}
export type AccountCommand = Deposit | { op: 'balance' };
/** One event per deposit: its operation id and amount. */
export interface Deposited {
  id: string;
  amount: number;
}
export interface Account {
  name: string;
  balance: number;
  /** Events applied: the journal's sequence number (nothing is ever deleted here). */
  seq: number;
}

/** What a client saw: `ok` (replied: the state right after its event), `failed` (certainly not applied), `unknown`. */
export type Outcome = { ok: Account; node: string } | { failed: string } | { unknown: string };

/** A life event of an account instance on this node: it answered (recovered) or stopped. */
export interface InstanceEvent {
  id: string;
  node: string;
  kind: 'up' | 'stop';
  at: number;
  seq: number;
  reason?: string;
}

const account: EventSourcedBehaviour<Account, AccountCommand, Deposited, Account> = {
  persistenceId: (name) => `acct:${name}`,
  initialState: (name) => ({ name, balance: 0, seq: 0 }),
  messageId: (cmd) => (cmd.op === 'deposit' ? cmd.id : undefined),
  handleCommand: (cmd, s) =>
    cmd.op === 'balance'
      ? { reply: s }
      : { events: [{ id: cmd.id, amount: cmd.amount }], reply: { name: s.name, balance: s.balance + cmd.amount, seq: s.seq + 1 } },
  handleEvent: (s, e) => ({ name: s.name, balance: s.balance + e.amount, seq: s.seq + 1 }),
};

interface Services {
  store: PersistenceStore & { close(): Promise<void> };
  reg: Registry;
  sup: DistributedSupervisor;
  /** Account processes alive here: pid key -> account name. */
  live: Map<string, string>;
  events: InstanceEvent[];
}

function services(env: ScenarioEnv): Services {
  const s = env.store.get('durable') as Services | undefined;
  if (s === undefined) throw new Error(`durable services not started on ${env.node.name} (run durSetup)`);
  return s;
}

async function openStore(cfg: StoreConfig): Promise<Services['store']> {
  return cfg.kind === 'sqlite' ? new SqliteStore({ path: cfg.path }) : PostgresStore.open({ connectionString: cfg.url });
}

function reasonText(r: ExitReason): string {
  return typeof r === 'string' ? r : JSON.stringify(r);
}

/** The code in a `{ persist_failed: { code } }` exit reason, if it is one. */
function persistCode(r: unknown): string | undefined {
  if (typeof r !== 'object' || r === null || !('persist_failed' in r)) return undefined;
  return (r as { persist_failed: { code?: string } }).persist_failed.code;
}

async function until(cond: () => boolean, timeoutMs: number, what: string, node: Node): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`${node.name}: timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const scenarios: Scenarios = {
  /**
   * Opens the shared store, registers the `account` behaviour and starts
   * Registry `names` and DistributedSupervisor `accounts` (named children).
   */
  async durSetup(env, cfg: StoreConfig, opts: { intensity?: number; orphanGraceMs?: number } = {}): Promise<true> {
    const node = env.node;
    const store = await openStore(cfg);
    const live = new Map<string, string>();
    const events: InstanceEvent[] = [];
    node.events.on('exit', (e) => {
      const id = live.get(e.pid.key);
      if (id === undefined) return;
      live.delete(e.pid.key);
      events.push({ id, node: node.name, kind: 'stop', at: performance.timeOrigin + performance.now(), seq: -1, reason: reasonText(e.reason) });
    });
    const server = eventSourced<Account, AccountCommand, Deposited, Account>(
      {
        ...account,
        onRecovered: (s) => {
          events.push({ id: s.name, node: node.name, kind: 'up', at: performance.timeOrigin + performance.now(), seq: s.seq });
        },
      },
      { journal: store.journal },
    );
    DistributedSupervisor.registerBehaviour<undefined, never>(node, 'account', {
      start: async (sup, _args, info) => {
        const r = await GenServer.startLink(sup, server, info.id);
        if (typeof r === 'object' && 'ok' in r) live.set(r.ok.key, info.id);
        return r;
      },
    });
    const timing = { discoveryMs: 200, antiEntropyMs: 1000 };
    const reg = await Registry.start(node, { name: 'names', ...timing });
    const sup = await DistributedSupervisor.start(node, {
      name: 'accounts',
      registry: reg,
      orphanGraceMs: opts.orphanGraceMs ?? 500,
      // Every lost write race restarts the loser (it replays and is current again): a partition can make many at once.
      intensity: opts.intensity ?? 1000,
      ...timing,
    });
    env.store.set('durable', { store, reg, sup, live, events } satisfies Services);
    return true;
  },

  async durAwaitTargets(env, n: number, timeoutMs = 10_000): Promise<void> {
    const { sup } = services(env);
    await until(() => sup.targets().length === n, timeoutMs, `${n} placement targets`, env.node);
  },

  /** Starts accounts `prefix{0..n-1}`; resolves to the number started. */
  async durStartAccounts(env, prefix: string, n: number): Promise<number> {
    const { sup } = services(env);
    let ok = 0;
    for (let i = 0; i < n; i++) {
      const r = await sup.startChild({ behaviour: 'account', name: `${prefix}${i}` });
      if (typeof r === 'object' && 'ok' in r) ok++;
      else throw new Error(`start ${prefix}${i}: ${JSON.stringify(r)}`);
    }
    return ok;
  },

  /**
   * One deposit through the registry name. `failed` only when it certainly
   * was not applied: no such process, or the store refused the write (the
   * instance had lost a write race). Everything else is `unknown`.
   */
  async durDeposit(env, name: string, id: string, amount: number, timeoutMs = 2000): Promise<Outcome> {
    const { reg } = services(env);
    try {
      const r = await GenServer.call<Account>(env.node, { via: reg, name }, { op: 'deposit', id, amount } satisfies Deposit, timeoutMs);
      return { ok: r, node: env.node.name };
    } catch (e) {
      if (e instanceof NoProcError) return { failed: 'noproc' };
      if (e instanceof CallExitError && persistCode(e.reason) === 'TROUPE_ERR_SEQ_CONFLICT') return { failed: 'seq_conflict' };
      return { unknown: e instanceof Error ? e.message : String(e) };
    }
  },

  /** The account's state, asked through the registry. */
  async durBalance(env, name: string): Promise<Account> {
    const { reg } = services(env);
    return GenServer.call<Account>(env.node, { via: reg, name }, { op: 'balance' }, 5000);
  },

  /** Account names running here (live processes, not replica records). */
  durLive(env): string[] {
    return [...services(env).live.values()];
  },

  /** Whether every name resolves here to a live pid of a visible node. */
  durResolvable(env, names: string[]): boolean {
    const { reg } = services(env);
    const visible = new Set([env.node.name, ...env.node.dist.nodes()]);
    return names.every((n) => {
      const r = reg.lookup(n);
      return r !== undefined && 'pid' in r && visible.has(r.pid.node);
    });
  },

  /** This node's account instance events, oldest first. */
  durEvents(env): InstanceEvent[] {
    return services(env).events;
  },

  /** Graceful leave: the children move to the other nodes (no hand-off data: they recover from the store). */
  async durDrain(env): Promise<unknown> {
    return services(env).sup.drain();
  },
};
