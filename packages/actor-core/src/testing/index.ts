// `@troupe/actor-core/testing`: the test helpers every package's suites share.
// It is a published entry point (not a relative import of actor-core's test
// folder) so that a consumer sees the very `Node`/`Pid` classes it gets from
// `@troupe/actor-core`: both come from the same build, and the classes'
// private fields make two copies of them incompatible under tsc.
// Imports go through the package's own index so module init order is the
// main entry's. Nothing here depends on a test runner.
import { Node, TIMEOUT, silentLogger, type Pid, type ProcessContext } from '../index.js';

/** A node that logs nothing, for tests. */
export function testNode(name = 'test@local', creation?: number): Node {
  return new Node(creation === undefined ? { name, logger: silentLogger } : { name, logger: silentLogger, creation });
}

/**
 * A process the test drives from outside: it keeps every message it gets;
 * `next(match)` waits (bounded) for the first matching one.
 */
export interface Probe {
  pid: Pid;
  ctx: ProcessContext;
  /** The first message matching the type guard, narrowed; rejects after `timeoutMs`. */
  next<T>(match: (m: unknown) => m is T, timeoutMs?: number): Promise<T>;
  next<T = unknown>(match?: (m: unknown) => boolean, timeoutMs?: number): Promise<T>;
  /** Resolves to true if nothing matching arrives within `ms` (for "nothing arrives" assertions). */
  none(match?: (m: unknown) => boolean, ms?: number): Promise<boolean>;
  /** Ends the probe process (normal exit). */
  stop(): void;
}

export interface ProbeOptions {
  trapExit?: boolean;
  /** Process label (`processInfo().behaviour`); default 'probe'. */
  label?: string;
  /** Default bound of `next`; 3000 ms unless given. */
  timeoutMs?: number;
}

/** Spawns a probe on `node` and resolves once it runs (so its `ctx` is usable). */
export async function probe(node: Node, opts: ProbeOptions = {}): Promise<Probe> {
  const defaultTimeout = opts.timeoutMs ?? 3000;
  let ctxRef: ProcessContext | undefined;
  let started!: () => void;
  const ready = new Promise<void>((r) => (started = r));
  let release!: () => void;
  const stopped = new Promise<void>((r) => (release = r));
  const pid = node.spawn(
    async (ctx) => {
      ctxRef = ctx;
      started();
      await stopped;
    },
    { trapExit: opts.trapExit ?? false, label: opts.label ?? 'probe' },
  );
  await ready;
  const ctx = ctxRef!;
  return {
    pid,
    ctx,
    async next<T>(match?: (m: unknown) => boolean, timeoutMs = defaultTimeout): Promise<T> {
      const m = await ctx.receive(match, { timeout: timeoutMs });
      if (m === TIMEOUT) throw new Error(`probe: no matching message within ${timeoutMs} ms; mailbox: ${mailboxText(node, pid)}`);
      return m as T;
    },
    async none(match?: (m: unknown) => boolean, ms = 50): Promise<boolean> {
      return (await ctx.receive(match, { timeout: ms })) === TIMEOUT;
    },
    stop: () => release(),
  };
}

// For the timeout message only: an unprintable mailbox (a bigint, a cycle)
// must not hide the timeout behind a JSON error.
function mailboxText(node: Node, pid: Pid): string {
  try {
    return JSON.stringify(node.mailboxOf(pid));
  } catch {
    return '(not printable)';
  }
}

export interface UntilOptions {
  /**
   * How to yield between checks: 'immediate' (default) checks after each
   * event-loop turn; 'timer' sleeps 1 ms per check (cheaper while waiting
   * on timer-driven work such as flush windows).
   */
  poll?: 'immediate' | 'timer';
}

/** Waits until `cond()` is true, polling; rejects after `timeoutMs` naming `what`. */
export async function until(cond: () => boolean, timeoutMs = 3000, what = 'condition', opts: UntilOptions = {}): Promise<void> {
  const pause = opts.poll === 'timer' ? () => new Promise<void>((r) => setTimeout(r, 1)) : () => new Promise<void>((r) => setImmediate(r));
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await pause();
  }
}

/** `p`, or a rejection naming `what` once `ms` pass first (the timer is cleared either way). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
