import { Pid } from '../pid.js';
import { renderValue } from './render.js';
import type { Dest } from '../types.js';

/** One traced message. `msg` is a bounded rendering taken when the message passed (the live object is not kept). */
export interface TraceEvent {
  /** Increases by one per event kept, from 1; `sinceSeq` of `Sys.traceEvents` reads from there. */
  seq: number;
  /** ms since the epoch. */
  at: number;
  /** `in`: put in the process's mailbox; `out`: sent (or cast, called, replied) by it. */
  dir: 'in' | 'out';
  /** For `out`, the destination; for `in`, the caller of a call (plain messages carry no sender). */
  peer: string | null;
  msg: string;
}

export interface TraceOptions {
  /** Events kept; older ones are overwritten. Default 200, at most 10 000. */
  buffer?: number;
  /** Events recorded per second; the rest are counted in `dropped`. Default 100, at most 10 000. */
  perSecond?: number;
  /** The trace turns itself off after this many ms, so a forgotten trace costs nothing for long. Default 300 000. */
  durationMs?: number;
  /** Characters of each rendered message. Default 500. */
  messageChars?: number;
}

/** `sys:statistics`-style counters, counted from when statistics were turned on. */
export interface ProcStatistics {
  /** ms since the epoch when counting started. */
  since: number;
  messagesIn: number;
  messagesOut: number;
}

const MAX_BUFFER = 10_000;
const MAX_RATE = 10_000;

function bounded(what: string, v: number | undefined, dflt: number, max: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < 1 || v > max) throw new RangeError(`trace: ${what} must be an integer in 1..${max}, got ${String(v)}`);
  return v;
}

export function describeDest(dest: Dest): string {
  if (dest instanceof Pid) return dest.toString();
  if (typeof dest === 'string') return dest;
  if (typeof dest === 'object' && dest !== null) {
    if ('via' in dest) return `via:${String(dest.name)}`;
    if ('node' in dest) return `${String(dest.name)}@${String(dest.node)}`;
  }
  return '?';
}

/** A ring of trace events with a per-second budget. */
export class TraceBuffer {
  readonly capacity: number;
  readonly perSecond: number;
  readonly messageChars: number;
  readonly expiresAt: number;
  private readonly ring: (TraceEvent | undefined)[];
  private seq = 0;
  private windowStart = 0;
  private inWindow = 0;
  /** Events not recorded because the per-second budget was spent. */
  dropped = 0;
  readonly listeners = new Set<(e: TraceEvent) => void>();

  constructor(opts: TraceOptions | undefined, now: number) {
    this.capacity = bounded('buffer', opts?.buffer, 200, MAX_BUFFER);
    this.perSecond = bounded('perSecond', opts?.perSecond, 100, MAX_RATE);
    this.messageChars = bounded('messageChars', opts?.messageChars, 500, 100_000);
    const d = opts?.durationMs ?? 300_000;
    if (typeof d !== 'number' || !(d > 0)) throw new RangeError(`trace: durationMs must be > 0, got ${String(d)}`);
    this.expiresAt = now + d;
    this.ring = new Array<TraceEvent | undefined>(this.capacity);
  }

  record(dir: 'in' | 'out', peer: string | null, msg: unknown): void {
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.inWindow = 0;
    }
    if (this.inWindow >= this.perSecond) {
      this.dropped++;
      return;
    }
    this.inWindow++;
    const e: TraceEvent = { seq: ++this.seq, at: now, dir, peer, msg: renderValue(msg, { total: this.messageChars, depth: 4, entries: 20 }) };
    this.ring[(e.seq - 1) % this.capacity] = e;
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // a listener's failure must not reach the message path
      }
    }
  }

  /** Events with `seq > sinceSeq` still in the ring, oldest first. */
  since(sinceSeq: number): TraceEvent[] {
    const out: TraceEvent[] = [];
    const first = Math.max(sinceSeq + 1, this.seq - this.capacity + 1, 1);
    for (let s = first; s <= this.seq; s++) out.push(this.ring[(s - 1) % this.capacity]!);
    return out;
  }

  get lastSeq(): number {
    return this.seq;
  }
}

/**
 * What a process carries while it is traced or counted (`Proc.hook`). The
 * message path checks only whether the hook is set, so a process that is
 * neither traced nor counted pays one field load per message.
 */
export class ProcHook {
  trace: TraceBuffer | null = null;
  stats: ProcStatistics | null = null;
  timer: ReturnType<typeof setTimeout> | null = null;

  in(msg: unknown): void {
    if (this.stats !== null) this.stats.messagesIn++;
    if (this.trace !== null) this.trace.record('in', callerOf(msg), msg);
  }

  out(dest: Dest, msg: unknown): void {
    if (this.stats !== null) this.stats.messagesOut++;
    if (this.trace !== null) this.trace.record('out', describeDest(dest), msg);
  }

  get idle(): boolean {
    return this.trace === null && this.stats === null;
  }
}

function callerOf(msg: unknown): string | null {
  if (typeof msg !== 'object' || msg === null) return null;
  const m = msg as { $gen?: unknown; from?: { pid?: unknown } ; type?: unknown };
  if (m.$gen === 'call' && m.from?.pid instanceof Pid) return m.from.pid.toString();
  if ((m.type === 'EXIT' || m.type === 'DOWN') && (msg as { from?: unknown }).from instanceof Pid) return String((msg as { from: Pid }).from);
  return null;
}
