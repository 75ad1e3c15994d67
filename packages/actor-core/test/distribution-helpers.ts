import { expect } from 'vitest';
import { MemoryNetwork, Pid, Ref, isCall, type Behaviour, type MemoryNetworkOptions, type Node } from '../src/index.js';
import { testNode } from './helpers.js';

// Pids and Refs are equal by value (a local pid carries a process cache a decoded one lacks).
expect.addEqualityTesters([
  (x: unknown, y: unknown) => ((x instanceof Pid && y instanceof Pid) || (x instanceof Ref && y instanceof Ref) ? x.equals(y) : undefined),
]);

/** Nodes named `<n>@mem`, fully meshed over a fresh memory network. */
export function cluster(names: string[], opts?: MemoryNetworkOptions): { net: MemoryNetwork; nodes: Node[] } {
  const net = new MemoryNetwork(opts);
  const nodes = names.map((n) => testNode(`${n}@mem`));
  net.mesh(...nodes);
  return { net, nodes };
}

/**
 * A call server without GenServer: answers `{ echo }` with `node.reply`,
 * crashes on 'crash', never answers 'ignore', exits with the reason in `{ stop }`.
 */
export const callServer: Behaviour = {
  name: 'call_server',
  handle(m, ctx) {
    if (!isCall(m)) return;
    const req = m.req as unknown;
    if (req === 'crash') throw new Error('boom');
    if (req === 'ignore') return;
    if (typeof req === 'object' && req !== null && 'stop' in req) ctx.exit((req as { stop: unknown }).stop);
    ctx.node.reply(m.from, { echo: req, by: ctx.self });
  },
};

/** Forwards every message it gets to `to`, tagged with its own pid. */
export function forwarder(to: Pid): Behaviour {
  return {
    handle(m, ctx) {
      ctx.send(to, { fwd: m, by: ctx.self });
    },
  };
}
