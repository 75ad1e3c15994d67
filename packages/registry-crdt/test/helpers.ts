import { expect } from 'vitest';
import { MemoryNetwork, Node, Pid, Ref, TIMEOUT, silentLogger, type ProcessContext } from '@troupe/actor-core';

// Pids and Refs compare by value (a decoded pid is another object).
expect.addEqualityTesters([
  (x: unknown, y: unknown) => ((x instanceof Pid && y instanceof Pid) || (x instanceof Ref && y instanceof Ref) ? x.equals(y) : undefined),
]);

export function testNode(name: string, creation?: number): Node {
  return new Node(creation === undefined ? { name, logger: silentLogger } : { name, logger: silentLogger, creation });
}

/** Nodes `<n>@mem`, fully meshed over a fresh memory network. */
export function cluster(names: string[]): { net: MemoryNetwork; nodes: Node[] } {
  const net = new MemoryNetwork();
  const nodes = names.map((n) => testNode(`${n}@mem`));
  net.mesh(...nodes);
  return { net, nodes };
}

/** Bounded polling (one macrotask per check): the only way tests wait for convergence. */
export async function until(cond: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** A process that keeps every message; `next(match)` waits (bounded) for one. */
export interface Probe {
  pid: Pid;
  ctx: ProcessContext;
  next<T = unknown>(match?: (m: unknown) => boolean, timeoutMs?: number): Promise<T>;
  stop(): void;
}

export async function probe(node: Node, opts: { trapExit?: boolean } = {}): Promise<Probe> {
  let ctxRef: ProcessContext | undefined;
  let started!: () => void;
  const ready = new Promise<void>((r) => (started = r));
  let release!: () => void;
  const stopP = new Promise<void>((r) => (release = r));
  const pid = node.spawn(
    async (ctx) => {
      ctxRef = ctx;
      started();
      await stopP;
    },
    { trapExit: opts.trapExit ?? false, label: 'probe' },
  );
  await ready;
  const ctx = ctxRef!;
  return {
    pid,
    ctx,
    async next<T>(match?: (m: unknown) => boolean, timeoutMs = 3000): Promise<T> {
      const m = await ctx.receive(match, { timeout: timeoutMs });
      if (m === TIMEOUT) throw new Error(`probe: no matching message within ${timeoutMs} ms`);
      return m as T;
    },
    stop: () => release(),
  };
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
