/**
 * Scenarios the cross-process tests run inside node processes (imported by
 * every node the harness starts for these tests; see apps/harness).
 */
import { GenServer, Rpc, isStarted, type Pid } from '@troupe/actor-core';
import type { Scenarios } from '@troupe/harness';

/** Never replies: a call to it stays pending until the caller's timeout or the node's death. */
const silent: GenServer<null, unknown, unknown, unknown> = {
  name: 'test_silent',
  init: () => ({ ok: null }),
  handleCall: (_req, _from, state) => ({ noreply: state }),
};

const idle = { name: 'test_idle', handle(): void {} };

export const scenarios: Scenarios = {
  /** Spawns `n` idle processes; resolves to their pids. */
  spawnIdle(env, n: number): Pid[] {
    const out: Pid[] = [];
    for (let i = 0; i < n; i++) out.push(env.node.spawn(idle));
    return out;
  },

  /** Starts the never-replying GenServer, registered as `name`. */
  async startSilent(env, name: string): Promise<Pid> {
    const r = await GenServer.start(env.node, silent, undefined, { name });
    if (!isStarted(r)) throw new Error(`silent server did not start: ${JSON.stringify(r)}`);
    return r.ok;
  },

  /** Exposes `add` and `hang` (never settles) for remote `Rpc.call`. */
  exposeRpc(env): boolean {
    Rpc.expose(env.node, 'add', (args) => (args[0] as number) + (args[1] as number));
    Rpc.expose(env.node, 'hang', () => new Promise(() => {}));
    return true;
  },

  /** `Rpc.call` from this node; resolves to `{ ok, value }` or `{ ok: false, error: name }` (the call's outcome, not a throw). */
  async rpcCall(env, peer: string, fn: string, args: unknown[], timeoutMs: number): Promise<{ ok: boolean; value?: unknown; error?: string }> {
    try {
      return { ok: true, value: await Rpc.call(env.node, peer, fn, args, { timeoutMs }) };
    } catch (e) {
      return { ok: false, error: (e as Error).name };
    }
  },

  async rpcMulticall(env, peers: string[], fn: string, args: unknown[], timeoutMs: number): Promise<{ values: unknown[]; badNodes: string[] }> {
    const r = await Rpc.multicall(env.node, peers, fn, args, { timeoutMs });
    return { values: r.results.map((x) => (x.ok ? x.value : x.error.name)), badNodes: r.badNodes };
  },

  /** How many remote monitors / links this node's processes hold (checks tables are emptied). */
  liveProcesses(env): number {
    return env.node.processCount;
  },
};
