import { Node } from '../node.js';
import type { Pid } from '../pid.js';
import type { Proc } from '../internal/process.js';
import { BadArgError } from '../errors.js';
import { DEFAULT_CALL_TIMEOUT } from '../internal/calls.js';
import { formatReason } from '../exit-reason.js';
import { nodeOf, type Origin } from '../start-result.js';
import { ProtocolRequest } from '../internal/calls.js';
import { exitedCall, originProc } from '../internal/origin.js';
import type { Dest } from '../types.js';
import type { SysRequest } from '../gen-server/server.js';
import { ProcHook, TraceBuffer, type ProcStatistics, type TraceEvent, type TraceOptions } from './trace.js';

function local(node: Node, pid: Pid, what: string): Proc | null {
  if (pid === null || typeof pid !== 'object' || typeof (pid as { key?: unknown }).key !== 'string') throw new BadArgError(`${what}: not a pid: ${formatReason(pid)}`);
  return node.lookup(pid);
}

/** A system request: a protocol envelope, so no user payload can pose as one. */
function sysCall(origin: Origin, server: Dest, req: SysRequest, timeoutMs: number): Promise<unknown> {
  const caller = originProc(origin);
  if (caller === undefined) return exitedCall(origin);
  return nodeOf(origin).calls.call(caller, server, new ProtocolRequest<SysRequest>(req), timeoutMs);
}

function releaseIfIdle(p: Proc): void {
  const h = p.hook;
  if (h !== null && h.idle) {
    if (h.timer !== null) clearTimeout(h.timer);
    p.hook = null;
  }
}

/** What `traceEvents` returns. */
export interface TraceRead {
  /** False once the trace was stopped, expired, or the process exited (the events read so far stay valid). */
  active: boolean;
  events: TraceEvent[];
  /** Events not recorded because the per-second budget was spent. */
  dropped: number;
  lastSeq: number;
}

/**
 * OTP's `sys` for Troupe: a GenServer's state, suspension and resumption
 * (system messages, so they work remotely and are answered even while the
 * server is suspended), and for any local process message statistics and a
 * live trace of its incoming and outgoing messages (`sys:trace`, `dbg`).
 *
 * Traces are off by default and bounded three ways: a ring buffer of
 * events, a per-second budget (the rest are counted as dropped), and a
 * duration after which the trace ends by itself. A process that is not
 * traced pays one field check per message.
 */
export const Sys = {
  /** The server's state (`sys:get_state`); see `GenServer.getState`. */
  getState<S = unknown>(origin: Origin, server: Dest, timeoutMs = DEFAULT_CALL_TIMEOUT): Promise<S> {
    return sysCall(origin, server, { $sys: 'get_state' }, timeoutMs) as Promise<S>;
  },

  /**
   * Suspends a GenServer (`sys:suspend`): it handles only system messages
   * (get_state, resume, stop) until `resume`; other messages wait, in order.
   */
  suspend(origin: Origin, server: Dest, timeoutMs = DEFAULT_CALL_TIMEOUT): Promise<void> {
    return sysCall(origin, server, { $sys: 'suspend' }, timeoutMs).then(() => undefined);
  },

  /** Resumes a suspended GenServer (`sys:resume`); the messages that waited are handled first. */
  resume(origin: Origin, server: Dest, timeoutMs = DEFAULT_CALL_TIMEOUT): Promise<void> {
    return sysCall(origin, server, { $sys: 'resume' }, timeoutMs).then(() => undefined);
  },

  /**
   * `sys:statistics` for a local process: `true` starts counting (from
   * zero), `false` stops, omitted reads. Undefined if the process is not
   * alive here or (when reading) not counted.
   */
  statistics(node: Node, pid: Pid, flag?: boolean): ProcStatistics | undefined {
    const p = local(node, pid, 'Sys.statistics');
    if (p === null) return undefined;
    if (flag === true) {
      const h = (p.hook ??= new ProcHook());
      h.stats = { since: Date.now(), messagesIn: 0, messagesOut: 0 };
      return { ...h.stats };
    }
    const s = p.hook?.stats ?? null;
    if (s === null) return undefined;
    const copy = { ...s };
    if (flag === false) {
      p.hook!.stats = null;
      releaseIfIdle(p);
    }
    return copy;
  },

  /**
   * Starts (or restarts, clearing the buffer) a trace of a local process's
   * messages; false if it is not alive here. Throws BadArgError on bad options.
   */
  trace(node: Node, pid: Pid, opts?: TraceOptions): boolean {
    const p = local(node, pid, 'Sys.trace');
    if (p === null) return false;
    let buf: TraceBuffer;
    try {
      buf = new TraceBuffer(opts, Date.now());
    } catch (e) {
      throw new BadArgError(e instanceof Error ? e.message : String(e));
    }
    const h = (p.hook ??= new ProcHook());
    h.trace = buf;
    if (h.timer !== null) clearTimeout(h.timer);
    h.timer = setTimeout(() => {
      h.timer = null;
      if (h.trace === buf) h.trace = null;
      releaseIfIdle(p);
    }, buf.expiresAt - Date.now());
    h.timer.unref?.();
    return true;
  },

  /** Stops a trace; true if one was running. */
  untrace(node: Node, pid: Pid): boolean {
    const p = local(node, pid, 'Sys.untrace');
    if (p === null || p.hook === null || p.hook.trace === null) return false;
    p.hook.trace = null;
    if (p.hook.timer !== null) {
      clearTimeout(p.hook.timer);
      p.hook.timer = null;
    }
    releaseIfIdle(p);
    return true;
  },

  /** The trace events after `sinceSeq` still buffered; undefined if the process is not traced. */
  traceEvents(node: Node, pid: Pid, sinceSeq = 0): TraceRead | undefined {
    const p = local(node, pid, 'Sys.traceEvents');
    const t = p?.hook?.trace ?? null;
    if (t === null) return undefined;
    return { active: true, events: t.since(sinceSeq), dropped: t.dropped, lastSeq: t.lastSeq };
  },

  /** Calls `listener` for each event of a running trace; returns the unsubscribe function, or null if not traced. */
  onTrace(node: Node, pid: Pid, listener: (e: TraceEvent) => void): (() => void) | null {
    const p = local(node, pid, 'Sys.onTrace');
    const t = p?.hook?.trace ?? null;
    if (t === null) return null;
    if (t.listeners.size >= 16) throw new BadArgError('Sys.onTrace: at most 16 listeners per trace');
    t.listeners.add(listener);
    return () => void t.listeners.delete(listener);
  },

  /** Whether a local process is being traced. */
  isTraced(node: Node, pid: Pid): boolean {
    return local(node, pid, 'Sys.isTraced')?.hook?.trace != null;
  },
};
