import { TIMEOUT, isDownMessage, isExitMessage, type DownMessage, type ExitMessage, type ProcessContext } from '../types.js';
import type { Pid } from '../pid.js';
import type { ExitReason } from '../exit-reason.js';
import type { ShutdownSpec } from './child-spec.js';

export interface StopTarget {
  readonly pid: Pid;
  readonly shutdown: ShutdownSpec;
}

interface Pending {
  pid: Pid;
  deadline: number;
}

/**
 * Stops children the OTP way (exit `shutdown`, then `kill` after the child's
 * shutdown timeout; `brutal_kill` kills at once) and returns each one's exit reason by pid key.
 * All targets are stopped concurrently (DynamicSupervisor; a static supervisor
 * passes one at a time to keep reverse order). Runs inside a trap-exit,
 * process-style supervisor:
 * - monitor, so a child that unlinked itself cannot hang us; unlink, so no
 *   EXIT for it arrives later;
 * - an EXIT already queued means it died on its own: that reason is kept;
 * - `shutdown` then `kill` after the timeout (`brutal_kill`: `kill` at once).
 */
export async function stopChildren(ctx: ProcessContext, targets: readonly StopTarget[]): Promise<Map<string, ExitReason>> {
  const reasons = new Map<string, ExitReason>();
  const pending = new Map<string, Pending>();
  for (const t of targets) {
    const ref = ctx.monitor(t.pid);
    ctx.unlink(t.pid);
    // A zero-timeout receive scans the mailbox synchronously: nothing can slip in between.
    const early = await ctx.receive((m): m is ExitMessage => isExitMessage(m) && m.from.equals(t.pid), { timeout: 0 });
    if (early !== TIMEOUT) {
      ctx.demonitor(ref, { flush: true });
      reasons.set(t.pid.key, early.reason);
      continue;
    }
    let deadline = Infinity;
    if (t.shutdown === 'brutal_kill') ctx.exit(t.pid, 'kill');
    else {
      ctx.exit(t.pid, 'shutdown');
      if (typeof t.shutdown === 'number') deadline = performance.now() + t.shutdown;
    }
    pending.set(ref.key, { pid: t.pid, deadline });
  }
  while (pending.size > 0) {
    let next = Infinity;
    for (const p of pending.values()) if (p.deadline < next) next = p.deadline;
    const isOurs = (m: unknown): m is DownMessage => isDownMessage(m) && pending.has(m.ref.key);
    const m = next === Infinity ? await ctx.receive(isOurs) : await ctx.receive(isOurs, { timeout: Math.max(0, Math.ceil(next - performance.now())) });
    if (m === TIMEOUT) {
      const now = performance.now();
      for (const p of pending.values()) {
        if (p.deadline <= now) {
          ctx.exit(p.pid, 'kill');
          p.deadline = Infinity;
        }
      }
      continue;
    }
    const p = pending.get(m.ref.key)!;
    pending.delete(m.ref.key);
    reasons.set(p.pid.key, m.reason);
  }
  return reasons;
}

/** Stops one child; its exit reason. */
export async function stopChild(ctx: ProcessContext, pid: Pid, shutdown: ShutdownSpec): Promise<ExitReason> {
  const r = await stopChildren(ctx, [{ pid, shutdown }]);
  return r.get(pid.key);
}
