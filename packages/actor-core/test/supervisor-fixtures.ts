import { expect } from 'vitest';
import {
  isExitMessage,
  isStarted,
  type ChildSpec,
  type ExitReason,
  type Node,
  type Pid,
  type ProcessContext,
  type StartResult,
} from '../src/index.js';

/** A message a fixture child obeys: exit with this reason. */
export interface Die {
  die: ExitReason;
}

export function isDie(m: unknown): m is Die {
  return typeof m === 'object' && m !== null && 'die' in m;
}

export interface WorkerOpts {
  /** Trap exits; on an EXIT from the supervisor, exit with `onShutdown` (default: the EXIT's reason). */
  trap?: boolean;
  /** With `trap`: the reason to exit with when told to shut down; `'hang'` never exits. */
  onShutdown?: ExitReason | 'hang';
  label?: string;
}

/** A process-style worker: waits for `{ die }`; see `WorkerOpts`. */
export function workerBody(opts: WorkerOpts = {}) {
  return async (ctx: ProcessContext): Promise<void> => {
    if (opts.trap) ctx.trapExit(true);
    for (;;) {
      const m = await ctx.receive();
      if (isDie(m)) ctx.exit(m.die);
      if (isExitMessage(m)) {
        if (opts.onShutdown === 'hang') continue;
        ctx.exit(opts.onShutdown ?? m.reason);
      }
    }
  };
}

/** A child spec whose start spawn-links a fixture worker. */
export function worker(id: string, extra: Partial<ChildSpec> = {}, opts: WorkerOpts = {}): ChildSpec {
  return {
    id,
    start: (sup) => ({ ok: sup.spawnLink(workerBody(opts), { label: opts.label ?? id }) }),
    ...extra,
  };
}

/** A start function whose behaviour the test switches at run time (OTP's ets-driven fixtures). */
export class Switch {
  mode: 'ok' | 'fail' | 'ignore' = 'ok';
  starts = 0;
  /** Slows failing starts down (like OTP's supervisor_deadlock), so a retry loop does not spin through the intensity limit. */
  failDelayMs = 0;
  spec(id: string, extra: Partial<ChildSpec> = {}): ChildSpec {
    return {
      id,
      start: async (sup) => {
        this.starts++;
        if (this.mode === 'fail') {
          if (this.failDelayMs > 0) await new Promise((r) => setTimeout(r, this.failDelayMs));
          return { error: 'start_failed' };
        }
        if (this.mode === 'ignore') return 'ignore';
        return { ok: sup.spawnLink(workerBody(), { label: id }) };
      },
      ...extra,
    };
  }
}

export function okPid(r: StartResult | { ok: Pid | undefined; info?: unknown } | { error: unknown }): Pid {
  expect(r).toHaveProperty('ok');
  const pid = (r as { ok: Pid | undefined }).ok;
  if (pid === undefined) throw new Error(`expected a pid, got ${JSON.stringify(r)}`);
  return pid;
}

export function started(r: StartResult): Pid {
  if (!isStarted(r)) throw new Error(`start failed: ${JSON.stringify(r)}`);
  return r.ok;
}

/** Resolves with `pid`'s exit reason; subscribe before the exit can happen. */
export function exitReasonOf(node: Node, pid: Pid, timeoutMs = 3000): Promise<ExitReason> {
  return new Promise((resolve, reject) => {
    if (!node.isAlive(pid)) return reject(new Error(`${pid.toString()} is not alive`));
    const timer = setTimeout(() => {
      node.events.off('exit', on);
      reject(new Error(`${pid.toString()} did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (e: { pid: Pid; reason: ExitReason }): void => {
      if (!e.pid.equals(pid)) return;
      clearTimeout(timer);
      node.events.off('exit', on);
      resolve(e.reason);
    };
    node.events.on('exit', on);
  });
}

/** Makes a child exit with `reason` and waits until it has. */
export async function crash(node: Node, pid: Pid, reason: ExitReason = 'crash'): Promise<void> {
  const done = exitReasonOf(node, pid);
  node.send(pid, { die: reason });
  expect(await done).toEqual(reason);
}

/** Records every exit on the node, in order. */
export function recordExits(node: Node): { pid: Pid; reason: ExitReason }[] {
  const log: { pid: Pid; reason: ExitReason }[] = [];
  node.events.on('exit', (e) => log.push(e));
  return log;
}

/** Remembers each spawned process's label, so exit logs can be read by name after the process is gone. */
export function trackLabels(node: Node): (pid: Pid) => string {
  const labels = new Map<string, string>();
  node.events.on('spawn', (e) => labels.set(e.pid.key, e.behaviour ?? e.pid.toString()));
  return (pid) => labels.get(pid.key) ?? pid.toString();
}
