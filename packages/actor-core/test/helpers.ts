import {
  Node,
  silentLogger,
  TIMEOUT,
  isDownMessage,
  isExitMessage,
  type ExitReason,
  type Pid,
  type ProcessContext,
  type Ref,
} from '../src/index.js';

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

// ---- additions for the conformance suites --------------------------------

/** Matches `{ type: 'DOWN', ref }` for one monitor. */
export function downFor(ref: Ref): (m: unknown) => boolean {
  return (m) => isDownMessage(m) && m.ref.equals(ref);
}

/** Matches `{ type: 'EXIT', from }` from one pid. */
export function exitFrom(pid: Pid): (m: unknown) => boolean {
  return (m) => isExitMessage(m) && m.from.equals(pid);
}

/**
 * Resolves with the exit reason of `pid` (via `node.events`). Call it before the
 * process can exit; rejects after `timeoutMs`.
 */
export function exitOf(node: Node, pid: Pid, timeoutMs = 2000): Promise<ExitReason> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      node.events.off('exit', on);
      reject(new Error(`exitOf: ${pid.toString()} did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (e: { pid: Pid; reason: ExitReason }): void => {
      if (!e.pid.equals(pid)) return;
      clearTimeout(t);
      node.events.off('exit', on);
      resolve(e.reason);
    };
    node.events.on('exit', on);
  });
}

/** A behaviour that appends every message to `msgs` (and optionally reacts). */
export function recorder(
  node: Node,
  opts: { trapExit?: boolean; name?: string; onMsg?: (m: unknown, ctx: ProcessContext) => void } = {},
): { pid: Pid; msgs: unknown[] } {
  const msgs: unknown[] = [];
  const spawnOpts: { trapExit?: boolean; name?: string; label: string } = { label: 'recorder' };
  if (opts.trapExit !== undefined) spawnOpts.trapExit = opts.trapExit;
  if (opts.name !== undefined) spawnOpts.name = opts.name;
  const pid = node.spawn(
    {
      handle(m: unknown, ctx: ProcessContext<unknown, undefined>) {
        msgs.push(m);
        opts.onMsg?.(m, ctx as ProcessContext);
      },
    },
    spawnOpts,
  );
  return { pid, msgs };
}

/** A process-style process that waits forever (until killed). */
export function sleeper(node: Node, opts: { trapExit?: boolean; name?: string } = {}): Pid {
  return node.spawn(async (ctx) => {
    await ctx.receive(() => false);
  }, opts);
}
