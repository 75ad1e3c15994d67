import { Pid } from '../pid.js';
import { reasonFromThrown } from '../exit-reason.js';
import type { StartResult } from '../start-result.js';
import type { ProcessContext } from '../types.js';

/** A child's start outcome, normalised: a throw or a malformed value becomes `{ error }`. */
export type ChildStartOutcome = { ok: Pid; info?: unknown } | 'ignore' | { error: unknown };

/** Calls a child's start function inside the supervisor; never throws. */
export async function invokeStart(
  start: (sup: ProcessContext, ...extra: unknown[]) => StartResult | Promise<StartResult>,
  ctx: ProcessContext,
  extra: readonly unknown[] = [],
): Promise<ChildStartOutcome> {
  let r: unknown;
  try {
    r = await start(ctx, ...extra);
  } catch (e) {
    return { error: reasonFromThrown(e) };
  }
  if (r === 'ignore') return 'ignore';
  if (typeof r === 'object' && r !== null) {
    if ('ok' in r && (r as { ok: unknown }).ok instanceof Pid) {
      const ok = r as { ok: Pid; info?: unknown };
      return 'info' in ok ? { ok: ok.ok, info: ok.info } : { ok: ok.ok };
    }
    if ('error' in r) return { error: (r as { error: unknown }).error };
  }
  // OTP 25 reports the value itself: `{failed_to_start_child, Id, V}` at start, `{error, V}` from start_child.
  return { error: r };
}

/** True while the process is alive; a process-style body must stop acting once its process has ended. */
export function isSelfAlive(ctx: ProcessContext): boolean {
  return ctx.node.isAlive(ctx.self);
}
