/**
 * Scenarios for test/reliable-delivery.test.ts: an event-sourced `ledger`
 * runs as a DistributedSupervisor child over a store every node process
 * shares (one SQLite file, or PostgreSQL); a ReliableProducer on another node sends it numbered
 * items through a ChildRef (the child by id, wherever it runs), while a
 * prober calls it through the same ref and records the ref's health.
 */
import { GenServer, type Node } from '@troupe/actor-core';
import { ChildRef, DistributedSupervisor, homeOf, type RefHealth } from '@troupe/registry-crdt';
import { ReliableProducer, eventSourced, type EventSourcedBehaviour, type PersistenceStore, type ProducerStats } from '@troupe/persistence';
import { SqliteStore } from '@troupe/persistence/sqlite';
import { PostgresStore } from '@troupe/persistence/postgres';
import type { StoreConfig } from './durable-scenarios.js';
import type { Scenarios, ScenarioEnv } from '@troupe/harness';

export interface Item {
  n: number;
}
/** What the ledger keeps: how many items, the last one, and how many came out of order (must stay 0). */
export interface LedgerState {
  count: number;
  last: number;
  outOfOrder: number;
}

const ledger: EventSourcedBehaviour<LedgerState, 'get', Item, LedgerState, never, never, string, Item> = {
  persistenceId: (id) => `ledger:${id}`,
  initialState: () => ({ count: 0, last: 0, outOfOrder: 0 }),
  handleCommand: (_cmd, s) => ({ reply: s }),
  handleDelivery: (msg) => ({ events: [{ n: msg.n }] }),
  handleEvent: (s, e) => ({ count: s.count + 1, last: e.n, outOfOrder: s.outOfOrder + (e.n === s.last + 1 ? 0 : 1) }),
};

/** A change of the ref's health or of the child's node as the producer's node sees them, with its time (ms, wall clock). */
export interface HealthSample {
  at: number;
  health: RefHealth;
  /** The node of the child's pid, null while it has none. */
  node: string | null;
}

interface Services {
  store: PersistenceStore;
  sup: DistributedSupervisor;
  producer?: ReliableProducer<Item>;
  done?: Promise<number>;
  health: HealthSample[];
  stopProbe?: () => void;
}

function services(env: ScenarioEnv): Services {
  const s = env.store.get('reliable') as Services | undefined;
  if (s === undefined) throw new Error(`reliable services not started on ${env.node.name} (run relSetup)`);
  return s;
}

async function until(cond: () => boolean, timeoutMs: number, what: string, node: Node): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`${node.name}: timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const scenarios: Scenarios = {
  /** Opens the shared store (a SQLite file, or PostgreSQL), registers `ledger` and starts DistributedSupervisor `ledgers`. */
  async relSetup(env, cfg: StoreConfig): Promise<true> {
    const store: PersistenceStore = cfg.kind === 'sqlite' ? new SqliteStore({ path: cfg.path }) : await PostgresStore.open({ connectionString: cfg.url });
    const server = eventSourced(ledger, { journal: store.journal });
    DistributedSupervisor.registerBehaviour<undefined, never>(env.node, 'ledger', {
      start: (sup, _args, info) => GenServer.startLink(sup, server, info.id),
    });
    const sup = await DistributedSupervisor.start(env.node, { name: 'ledgers', orphanGraceMs: 500, intensity: 100, discoveryMs: 200, antiEntropyMs: 1000 });
    env.store.set('reliable', { store, sup, health: [] } satisfies Services);
    return true;
  },

  async relAwaitTargets(env, n: number): Promise<void> {
    const { sup } = services(env);
    await until(() => sup.targets().length === n, 10_000, `${n} placement targets`, env.node);
  },

  /** A child id whose home is `first` among all targets and `second` once `first` is gone. */
  relPickId(env, prefix: string, first: string, second: string): string {
    const { sup } = services(env);
    const all = sup.targets();
    const rest = all.filter((n) => n !== first);
    for (let i = 0; ; i++) if (homeOf(`${prefix}${i}`, all) === first && homeOf(`${prefix}${i}`, rest) === second) return `${prefix}${i}`;
  },

  async relStartChild(env, id: string): Promise<string> {
    const { sup } = services(env);
    const r = await sup.startChild({ behaviour: 'ledger', id });
    if (typeof r !== 'object' || !('ok' in r)) throw new Error(`start ${id}: ${JSON.stringify(r)}`);
    await sup.whenRunning(id);
    return r.node;
  },

  /** Where this node sees the child now. */
  relWhere(env, id: string): string | null {
    return services(env).sup.whereisName(id)?.node ?? null;
  },

  /**
   * Starts sending items 1..n to child `id` through a ChildRef, `chunk` of
   * them every `everyMs`, and a prober that calls the child through the same
   * ref every 50 ms and records each change of the ref's health or of the
   * child's node.
   */
  async relProduce(env, id: string, n: number, chunk: number, everyMs: number): Promise<true> {
    const s = services(env);
    const ref: ChildRef = s.sup.ref(id, { attempts: 200, timeoutMs: 1000, backoffMs: 20, maxBackoffMs: 200, slowMs: 500 });
    const p = await ReliableProducer.start<Item>(env.node, { producerId: 'numbers', target: ref, maxBuffered: n });
    s.producer = p;
    const record = (): void => {
      const h = ref.health();
      const node = ref.whereis()?.node ?? null;
      const last = s.health[s.health.length - 1];
      if (last?.health !== h || last.node !== node) s.health.push({ at: performance.timeOrigin + performance.now(), health: h, node });
    };
    record();
    const unwatch = ref.watch(record);
    let probing = true;
    const sampler = setInterval(record, 2);
    void (async () => {
      while (probing) {
        await ref.call('get').catch(() => undefined);
        record();
        await sleep(50);
      }
    })();
    s.stopProbe = () => {
      probing = false;
      clearInterval(sampler);
      unwatch();
    };
    s.done = (async () => {
      const all: Promise<number>[] = [];
      for (let i = 1; i <= n; i += chunk) {
        for (let j = i; j < i + chunk && j <= n; j++) all.push(p.send({ n: j }));
        await sleep(everyMs);
      }
      const seqs = await Promise.all(all);
      return seqs.length;
    })();
    return true;
  },

  relProgress(env): ProducerStats {
    return services(env).producer!.stats();
  },

  /** Waits until every send is confirmed; then stops the prober once the ref has been healthy again. */
  async relDone(env, timeoutMs: number): Promise<{ confirmed: number; stats: ProducerStats; health: HealthSample[] }> {
    const s = services(env);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not all confirmed in ${timeoutMs} ms: ${JSON.stringify(s.producer!.stats())}`)), timeoutMs);
    });
    // The deadline's timer goes with the answer: left running it would hold the node for timeoutMs.
    const confirmed = await Promise.race([s.done!, late]).finally(() => clearTimeout(timer));
    await until(() => s.health[s.health.length - 1]?.health === 'healthy', 10_000, 'the ref to be healthy again', env.node);
    s.stopProbe?.();
    return { confirmed, stats: s.producer!.stats(), health: s.health };
  },

  /** The ledger's state, asked through a ref. */
  async relState(env, id: string): Promise<LedgerState> {
    return services(env).sup.ref(id, { attempts: 50, backoffMs: 50 }).call<LedgerState>('get');
  },
};
