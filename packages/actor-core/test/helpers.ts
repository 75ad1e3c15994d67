import { afterEach } from 'vitest';
import {
  isDownMessage,
  isExitMessage,
  type ExitReason,
  type Node,
  type Pid,
  type ProcessContext,
  type Ref,
} from '../src/index.js';
import { probe as sharedProbe, testNode, until as sharedUntil, type Probe, type ProbeOptions } from '../src/testing/index.js';

// The generic helpers live in the package's `testing` entry (shared with the
// other packages' suites); this suite keeps its historical 2 s bounds.
export { testNode, type Probe, type ProbeOptions } from '../src/testing/index.js';

export function probe(node: Node, opts: ProbeOptions = {}): Promise<Probe> {
  return sharedProbe(node, { timeoutMs: 2000, ...opts });
}

/** Waits until `cond()` is true, polling each macrotask turn; fails after `timeoutMs`. */
export function until(cond: () => boolean, timeoutMs = 2000, what = 'condition'): Promise<void> {
  return sharedUntil(cond, timeoutMs, what);
}

// ---- additions for the conformance suites --------------------------------

/** Call at the top of a test file: returns a maker of test nodes that are all shut down after each test. */
export function nodesPerTest(): (name?: string) => Node {
  let made: Node[] = [];
  afterEach(() => {
    for (const n of made) n.shutdown();
    made = [];
  });
  return (name) => {
    const n = testNode(name);
    made.push(n);
    return n;
  };
}

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
