import { GenServer, type GenServer as GS, type Node, type Pid } from '@troupe/actor-core';
import { DistributedSupervisor, type DistributedSupervisorOptions } from '../src/index.js';

export const fast = { discoveryMs: 50, antiEntropyMs: 300, orphanGraceMs: 1500 };

/** A counter child: `get` replies the count, `inc` adds one; it hands its count over on drain. */
export const counter: GS<number, 'get', 'inc', number, unknown, number> = {
  name: 'worker',
  init: (n) => ({ ok: n }),
  handleCall: (_m, _f, s) => ({ reply: s, state: s }),
  handleCast: (_m, s) => ({ noreply: s + 1 }),
};

export function registerWorker(node: Node): void {
  DistributedSupervisor.registerBehaviour<{ start?: number } | null, number>(node, 'worker', {
    start: (sup, args, info) => GenServer.startLink(sup, counter, info.handoff ?? args?.start ?? 0),
    handoff: (pid, n) => GenServer.call<number>(n, pid, 'get'),
  });
}

export async function startSups(ns: Node[], opts: Partial<DistributedSupervisorOptions> = {}): Promise<DistributedSupervisor[]> {
  for (const n of ns) registerWorker(n);
  return Promise.all(ns.map((n) => DistributedSupervisor.start(n, { name: 'workers', ...fast, ...opts })));
}

/** Live worker processes per node (what really runs, not what the replicas say). */
export function live(ns: Node[]): Pid[] {
  return ns.flatMap((n) => n.processes().filter((p) => n.processInfo(p)?.behaviour === 'worker'));
}
