/**
 * Scenarios for the registry-crdt cross-process tests (test/registry-*.test.ts)
 * and the `registry` bench suite's node processes: a cluster Registry plus a
 * DistributedSupervisor of named `room` children, run inside harness nodes.
 * Loaded next to test/scenarios.ts (see REG_SCENARIOS in helpers.ts).
 */
import { GenServer, type GenServer as GS, type Node, type Pid } from '@troupe/actor-core';
import { DistributedSupervisor, Registry, type DistStartChildResult } from '@troupe/registry-crdt';
import type { Scenarios, ScenarioEnv } from '@troupe/harness';

/** A room child: its state is a number, handed over on drain; `get` reads it. */
interface RoomState {
  id: string;
  n: number;
}

/** Live room processes of this node process, by pid key (what really runs, not what a replica says). */
const live = new Map<string, string>();
let liveHooked: Node | null = null;

const room: GS<RoomState, 'get', never, number, unknown, RoomState> = {
  name: 'reg_room',
  init: (a, ctx) => {
    live.set(ctx.self.key, a.id);
    return { ok: { id: a.id, n: a.n } };
  },
  handleCall: (_m, _f, s) => ({ reply: s.n, state: s }),
};

interface Services {
  reg: Registry;
  sup: DistributedSupervisor;
}

export interface SetupOptions {
  antiEntropyMs?: number;
  orphanGraceMs?: number;
  discoveryMs?: number;
}

export interface Census {
  node: string;
  /** Room processes alive here, and their child ids. */
  live: number;
  ids: string[];
  /** Names the registry resolves here, and a digest of every `name -> pid`. */
  names: number;
  digest: number;
  /** Names resolving to a pid of this node that is not a live room (stale or lost). */
  badLocal: number;
  /** Names resolving to a pid of a node this node does not see (stale remote claims). */
  unreachable: number;
  conflicts: number;
  duplicatesStopped: number;
  targets: number;
}

function services(env: ScenarioEnv): Services {
  const s = env.store.get('reg') as Services | undefined;
  if (s === undefined) throw new Error(`registry services not started on ${env.node.name} (run regSetup)`);
  return s;
}

function fnv(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

async function until(cond: () => boolean, timeoutMs: number, what: string, node: Node): Promise<number> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`${node.name}: timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
  return performance.now() - t0;
}

export const scenarios: Scenarios = {
  /** Starts Registry `names` and DistributedSupervisor `rooms` (named children registered in `names`). */
  async regSetup(env, opts: SetupOptions = {}): Promise<boolean> {
    const node = env.node;
    if (liveHooked !== node) {
      liveHooked = node;
      node.events.on('exit', (e) => live.delete(e.pid.key));
      DistributedSupervisor.registerBehaviour<{ n: number }, number>(node, 'room', {
        start: (sup, args, info) => GenServer.startLink(sup, room, { id: info.id, n: info.handoff ?? args.n }),
        handoff: (pid, n) => GenServer.call<number>(n, pid, 'get'),
      });
    }
    const timing = { discoveryMs: opts.discoveryMs ?? 200, antiEntropyMs: opts.antiEntropyMs ?? 1000 };
    const reg = await Registry.start(node, { name: 'names', ...timing });
    const sup = await DistributedSupervisor.start(node, { name: 'rooms', registry: reg, orphanGraceMs: opts.orphanGraceMs ?? 1000, ...timing });
    env.store.set('reg', { reg, sup } satisfies Services);
    return true;
  },

  /** Waits (bounded) until this node's supervisor places on `n` nodes. */
  async regAwaitTargets(env, n: number, timeoutMs = 10_000): Promise<number> {
    const { sup } = services(env);
    return until(() => sup.targets().length === n, timeoutMs, `${n} placement targets`, env.node);
  },

  /** Waits (bounded) until the registry here resolves exactly `n` names; resolves to the ms it took. */
  async regAwaitNames(env, n: number, timeoutMs = 10_000): Promise<number> {
    const { reg } = services(env);
    return until(() => reg.count() === n, timeoutMs, `${n} names (have ${reg.count()})`, env.node);
  },

  /** Starts rooms `prefix{from..to-1}` from this node, `window` starts in flight; resolves to counts of the outcomes. */
  async regStartRooms(env, prefix: string, from: number, to: number, window = 100): Promise<{ ok: number; errors: string[] }> {
    const { sup } = services(env);
    let ok = 0;
    const errors: string[] = [];
    let next = from;
    const worker = async (): Promise<void> => {
      while (next < to) {
        const i = next++;
        const r: DistStartChildResult = await sup.startChild({ behaviour: 'room', name: `${prefix}${i}`, args: { n: i } });
        if (typeof r === 'object' && 'ok' in r) ok++;
        else if (errors.length < 5) errors.push(JSON.stringify(r));
      }
    };
    await Promise.all(Array.from({ length: Math.min(window, to - from) }, worker));
    return { ok, errors };
  },

  /** What runs here and what the registry resolves here (see `Census`). */
  regCensus(env): Census {
    const { reg, sup } = services(env);
    const node = env.node;
    const entries = reg.select();
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    let digest = 0x811c9dc5;
    let badLocal = 0;
    let unreachable = 0;
    const visible = new Set(node.dist.nodes());
    for (const e of entries) {
      digest = fnv(digest, `${e.name}=${e.pid.toString()};`);
      if (e.pid.node === node.name) {
        if (e.pid.creation !== node.creation || !node.isAlive(e.pid) || !live.has(e.pid.key)) badLocal++;
      } else if (!visible.has(e.pid.node)) unreachable++;
    }
    const st = sup.running ? sup.stats() : undefined;
    return {
      node: node.name,
      live: live.size,
      ids: [...live.values()],
      names: entries.length,
      digest,
      badLocal,
      unreachable,
      conflicts: reg.stats().conflictsResolved,
      duplicatesStopped: st?.duplicatesStopped ?? 0,
      targets: sup.running ? sup.targets().length : 0,
    };
  },

  /** The state (`get`) of the room registered as `name`, asked through the registry. */
  async regRoomState(env, name: string): Promise<number> {
    const { reg } = services(env);
    return GenServer.call<number>(env.node, { via: reg, name }, 'get', 2000);
  },

  /** Graceful leave of this node's supervisor: hands its children over with their state. */
  async regDrain(env): Promise<{ handedOff: number; notAdopted: number }> {
    return services(env).sup.drain();
  },

  /** Registers `n` idle processes as `prefix{i}` in the registry; resolves to their pids. */
  regRegisterIdle(env, prefix: string, n: number): Pid[] {
    const { reg } = services(env);
    const out: Pid[] = [];
    for (let i = 0; i < n; i++) {
      const pid = env.node.spawn({ handle() {} });
      if (reg.register(`${prefix}${i}`, pid) !== 'ok') throw new Error(`${prefix}${i} already registered`);
      out.push(pid);
    }
    return out;
  },

  /** `lookup` of each name here: its pid, or null. */
  regLookup(env, names: string[]): (Pid | null)[] {
    const { reg } = services(env);
    return names.map((n) => {
      const r = reg.lookup(n);
      return r !== undefined && 'pid' in r ? r.pid : null;
    });
  },

  /** Heap bytes in use after a full GC (node processes run with --expose-gc for this). */
  regHeapUsed(): number {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc !== undefined) {
      gc();
      gc();
    }
    return process.memoryUsage().heapUsed;
  },
};
