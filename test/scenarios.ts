/**
 * Scenarios the cross-process tests run inside node processes (imported by
 * every node the harness starts for these tests; see apps/harness).
 */
import { GenServer, isStarted, type Pid } from '@troupe/actor-core';
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

  /** How many remote monitors / links this node's processes hold (checks tables are emptied). */
  liveProcesses(env): number {
    return env.node.processCount;
  },
};
