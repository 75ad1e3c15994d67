import { Node, silentLogger, TIMEOUT, type Pid, type ProcessContext } from '../src/index.js';

/** A node that logs nothing, for tests. */
export function testNode(name = 'test@local'): Node {
  return new Node({ name, logger: silentLogger });
}

/**
 * A process-style probe the test drives from outside: it collects every
 * message; `next(match)` waits (bounded) for the first matching one.
 */
export interface Probe {
  pid: Pid;
  ctx: ProcessContext;
  next<T = unknown>(match?: (m: unknown) => boolean, timeoutMs?: number): Promise<T>;
  /** Resolves to true if nothing matching arrives within ms (for "nothing arrives" assertions). */
  none(match?: (m: unknown) => boolean, ms?: number): Promise<boolean>;
}

export async function probe(node: Node, opts: { trapExit?: boolean } = {}): Promise<Probe> {
  let ctxRef: ProcessContext | undefined;
  let started!: () => void;
  const ready = new Promise<void>((r) => (started = r));
  let release!: () => void;
  const stop = new Promise<void>((r) => (release = r));
  const pid = node.spawn(async (ctx) => {
    ctxRef = ctx;
    started();
    await stop;
  }, { trapExit: opts.trapExit ?? false, label: 'probe' });
  await ready;
  const ctx = ctxRef!;
  void release;
  return {
    pid,
    ctx,
    async next<T>(match?: (m: unknown) => boolean, timeoutMs = 2000): Promise<T> {
      const m = await ctx.receive(match, { timeout: timeoutMs });
      if (m === TIMEOUT) throw new Error(`probe: no matching message within ${timeoutMs} ms; mailbox: ${JSON.stringify(node.mailboxOf(pid))}`);
      return m as T;
    },
    async none(match?: (m: unknown) => boolean, ms = 50): Promise<boolean> {
      const m = await ctx.receive(match, { timeout: ms });
      return m === TIMEOUT;
    },
  };
}

/** Waits until `cond()` is true, polling each macrotask turn; fails after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs = 2000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}
