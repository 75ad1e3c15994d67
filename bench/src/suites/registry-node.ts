/**
 * The node side of the `registry` suite: scenarios every cluster node (a
 * @troupe/harness node process) runs. Imported only inside those processes.
 */
import { readFileSync } from 'node:fs';
import { GenServer, type GenServer as GS, type Node } from '@troupe/actor-core';
import { DistributedSupervisor, Registry, type Diff, type Claim } from '@troupe/registry-crdt';
import type { Scenarios, ScenarioEnv } from '@troupe/harness';

const idle = { name: 'bench_idle', handle(): void {} };
/** Longest synchronous run of registrations (see benchRegisterMany). */
const SLICE_MS = 20;

const room: GS<number, 'get', never, number, unknown, number> = {
  name: 'bench_room',
  init: (n) => ({ ok: n }),
  handleCall: (_m, _f, s) => ({ reply: s, state: s }),
};

interface Services {
  reg: Registry;
  sup: DistributedSupervisor | undefined;
}

function svc(env: ScenarioEnv): Services {
  const s = env.store.get('svc') as Services | undefined;
  if (s === undefined) throw new Error(`${env.node.name}: run benchSetup first`);
  return s;
}

/** Wall-clock ms with sub-ms precision, comparable across processes (as the harness's event times). */
function wall(): number {
  return performance.timeOrigin + performance.now();
}

async function until(node: Node, cond: () => boolean, timeoutMs: number, what: string, pollMs = 1): Promise<number> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`${node.name}: timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
  return performance.now() - t0;
}

/** Bytes this process read and wrote through syscalls (sockets included): `/proc/self/io`. */
function io(): { read: number; written: number } {
  const t = readFileSync('/proc/self/io', 'utf8');
  const get = (k: string): number => Number(new RegExp(`^${k}: (\\d+)`, 'm').exec(t)?.[1] ?? NaN);
  return { read: get('rchar'), written: get('wchar') };
}

function heapUsed(env: ScenarioEnv): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('node processes need --expose-gc');
  gc();
  gc();
  // The registry's own-claims index lives in a typed array, outside the JS heap: counted too.
  // (Not all of `arrayBuffers`: transport buffers there swing by megabytes between samples.)
  const reg = (env.store.get('svc') as Services | undefined)?.reg;
  return process.memoryUsage().heapUsed + (reg?.stats().indexBytes ?? 0);
}

export const scenarios: Scenarios = {
  /**
   * Starts Registry `names` (and, with `sup`, a DistributedSupervisor `rooms`).
   * With `watch`, every name added here whose key starts with `vis:` is
   * reported as a `seen` event with its arrival time.
   */
  async benchSetup(env, opts: { sup?: boolean; watch?: boolean; antiEntropyMs?: number } = {}): Promise<number> {
    const node = env.node;
    const t0 = performance.now();
    const timing = { discoveryMs: 200, ...(opts.antiEntropyMs === undefined ? {} : { antiEntropyMs: opts.antiEntropyMs }) };
    const reg = await Registry.start(node, { name: 'names', ...timing });
    if (opts.watch === true) {
      // The registry has no listener API yet: observe the replica's diffs by wrapping the registry's handler.
      const r = reg as unknown as { onDiff(d: Diff<Claim>): void };
      const orig = r.onDiff.bind(reg);
      r.onDiff = (d) => {
        orig(d);
        for (const e of d.added) if (e.key.startsWith('vis:')) env.emit('seen', { name: e.key, at: wall() });
      };
    }
    let sup: DistributedSupervisor | undefined;
    if (opts.sup === true) {
      DistributedSupervisor.registerBehaviour<{ n: number }, number>(node, 'room', {
        start: (s, args) => GenServer.startLink(s, room, args.n),
      });
      sup = await DistributedSupervisor.start(node, { name: 'rooms', registry: reg, orphanGraceMs: 1000, ...timing });
    }
    env.store.set('svc', { reg, sup } satisfies Services);
    return performance.now() - t0;
  },

  async benchAwaitTargets(env, n: number): Promise<number> {
    const { reg, sup } = svc(env);
    return until(env.node, () => (sup === undefined ? reg.members().filter((m) => m.status === 'alive').length : sup.targets().length) === n, 30_000, `${n} members`, 2);
  },

  /** Registers `name` on a fresh idle process; resolves to the wall time just before. */
  benchRegisterOne(env, name: string): number {
    const { reg } = svc(env);
    const pid = env.node.spawn(idle);
    const at = wall();
    if (reg.register(name, pid) !== 'ok') throw new Error(`${name} taken`);
    return at;
  },

  /**
   * Registers `n` idle processes as `prefix{i}`, in slices of ≤ SLICE_MS with
   * the event loop let through in between: one synchronous burst of 30k
   * registrations blocks this node for 0.3–1.5 s on a busy box, past the
   * suite's 1 s tick timeout, and its peers then drop it (net_tick_timeout;
   * nothing reconnects). Between slices the ticks are answered and the
   * replica pushes the new names as deltas, as it would under real load.
   */
  async benchRegisterMany(env, prefix: string, n: number): Promise<number> {
    const { reg } = svc(env);
    let t0 = performance.now();
    for (let i = 0; i < n; i++) {
      reg.register(`${prefix}${i}`, env.node.spawn(idle));
      if ((i & 255) === 255 && performance.now() - t0 > SLICE_MS) {
        await new Promise((r) => setImmediate(r));
        t0 = performance.now();
      }
    }
    return reg.count();
  },

  async benchAwaitNames(env, n: number, timeoutMs = 60_000): Promise<number> {
    const { reg } = svc(env);
    return until(env.node, () => reg.count() === n, timeoutMs, `${n} names`, 2);
  },

  /**
   * A joiner: starts the registry and waits until it holds `n` names.
   * Resolves to the ms from start to converged, the bytes read meanwhile,
   * and the heap that the `n` replicated names added.
   */
  async benchJoin(env, n: number): Promise<{ ms: number; bytes: number; heap: number; startMs: number }> {
    const h0 = heapUsed(env);
    const io0 = io();
    const t0 = performance.now();
    const reg = await Registry.start(env.node, { name: 'names', discoveryMs: 200 });
    env.store.set('svc', { reg, sup: undefined } satisfies Services);
    const startMs = performance.now() - t0;
    await until(env.node, () => reg.count() === n, 60_000, `${n} names`);
    const ms = performance.now() - t0;
    const bytes = io().read - io0.read;
    return { ms, bytes, heap: heapUsed(env) - h0, startMs };
  },

  /**
   * Waits (≤ `timeoutMs`, no error) until this node's replica has nothing in
   * flight: every peer acked its ops (log empty) and nothing waits for a
   * flush. A heap sample taken before that counts transient sync state
   * (unacked ops, queued frames) as if each name kept it. Resolves to the ops
   * still logged.
   */
  async benchAwaitQuiet(env, timeoutMs = 5000): Promise<number> {
    const { reg } = svc(env);
    // No public accessor for the engine: read it as benchSetup's `watch` does.
    const engine = (reg as unknown as { replica: { engine: { logSize: number; pending: boolean } } }).replica.engine;
    const t0 = performance.now();
    while ((engine.logSize > 0 || engine.pending) && performance.now() - t0 < timeoutMs) await new Promise((r) => setTimeout(r, 5));
    return engine.logSize;
  },

  /** Spawns `n` idle processes (kept alive). */
  benchSpawnIdle(env, n: number): number {
    for (let i = 0; i < n; i++) env.node.spawn(idle);
    return n;
  },

  /** Heap after a full GC, plus the registry index held outside it. */
  benchHeap(env): number {
    return heapUsed(env);
  },

  /** Starts rooms `room:{from..to-1}` from here, `window` in flight; resolves to how many started. */
  async benchStartRooms(env, from: number, to: number, window = 200): Promise<number> {
    const sup = svc(env).sup!;
    let ok = 0;
    let next = from;
    const worker = async (): Promise<void> => {
      while (next < to) {
        const i = next++;
        const r = await sup.startChild({ behaviour: 'room', name: `room:${i}`, args: { n: i } });
        if (typeof r === 'object' && 'ok' in r) ok++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(window, to - from) }, worker));
    return ok;
  },

  /** Running children as this node's replica sees them, and how many run here. */
  benchChildren(env): { active: number; local: number } {
    const c = svc(env).sup!.countChildren();
    return { active: c.active, local: c.local };
  },

  /** Waits until `n` children run, none of them on `dead`; resolves to the wall time it held. */
  async benchAwaitChildren(env, n: number, dead: string): Promise<number> {
    const sup = svc(env).sup!;
    await until(env.node, () => sup.countChildren().active === n && !sup.targets().includes(dead), 60_000, `${n} children`);
    return wall();
  },

  /** Bytes read and written so far (`/proc/self/io`). */
  benchIo(): { read: number; written: number } {
    return io();
  },
};
