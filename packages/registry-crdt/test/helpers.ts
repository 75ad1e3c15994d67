import { expect } from 'vitest';
import { MemoryNetwork, Pid, Ref, type Node } from '@troupe/actor-core';
import { testNode, until as sharedUntil } from '@troupe/actor-core/testing';

// Pids and Refs compare by value (a decoded pid is another object).
expect.addEqualityTesters([
  (x: unknown, y: unknown) => ((x instanceof Pid && y instanceof Pid) || (x instanceof Ref && y instanceof Ref) ? x.equals(y) : undefined),
]);

// Generic helpers (quiet node, probe process, bounded polling) are shared with
// the other packages' suites through actor-core's `testing` entry.
export { testNode, probe, type Probe } from '@troupe/actor-core/testing';

/** Nodes `<n>@mem`, fully meshed over a fresh memory network. */
export function cluster(names: string[]): { net: MemoryNetwork; nodes: Node[] } {
  const net = new MemoryNetwork();
  const nodes = names.map((n) => testNode(`${n}@mem`));
  net.mesh(...nodes);
  return { net, nodes };
}

/** Bounded polling (one 1 ms timer per check): the only way tests wait for convergence. */
export function until(cond: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  return sharedUntil(cond, timeoutMs, what, { poll: 'timer' });
}

/** A process that just waits (to be a group member or a name holder); ends on any message 'stop'. */
export function idle(node: Node, opts: { trapExit?: boolean } = {}): Pid {
  return node.spawn(
    {
      handle(m, ctx) {
        if (m === 'stop') ctx.exit('normal');
      },
    },
    { trapExit: opts.trapExit ?? false, label: 'idle' },
  );
}

export function shutdownAll(nodes: Node[]): void {
  for (const n of nodes) n.shutdown();
}
