import { Pid, Ref } from '../pid.js';
import type { Dest, TimeoutMessage } from '../types.js';
import type { Node } from '../node.js';
import type { Proc } from './process.js';

/** Node's setTimeout fires after 1 ms for delays above this, so longer timers are chained. */
const MAX_DELAY = 2 ** 31 - 1;

export class TimerEntry {
  handle: ReturnType<typeof setTimeout> | null = null;
  constructor(
    readonly ref: Ref,
    readonly dest: Dest,
    readonly msg: unknown,
    readonly due: number,
    /** The local process the timer is aimed at: its death cancels the timer. */
    readonly owner: Proc | null,
  ) {}
}

/** `sendAfter` / `startTimer` / `cancelTimer` / `readTimer` (Erlang's timer BIFs). */
export class Timers {
  private readonly byRef = new Map<string, TimerEntry>();

  constructor(private readonly node: Node) {}

  start(ms: number, dest: Dest, msg: unknown, wrap: boolean): Ref {
    if (typeof ms !== 'number' || !(ms >= 0) || !Number.isFinite(ms)) throw new TypeError(`timer delay must be a finite number of ms >= 0, got ${String(ms)}`);
    const node = this.node;
    const ref = node.makeRef();
    let owner: Proc | null = null;
    if (dest instanceof Pid && dest.node === node.name) {
      owner = node.lookup(dest);
      if (owner === null) return ref; // aimed at a dead pid: a ref that never fires
    }
    const payload = wrap ? ({ type: 'timeout', ref, msg } satisfies TimeoutMessage) : msg;
    const entry = new TimerEntry(ref, dest, payload, Date.now() + ms, owner);
    this.byRef.set(ref.key, entry);
    if (owner !== null) (owner.timers ??= new Set()).add(entry);
    this.arm(entry);
    return ref;
  }

  private arm(entry: TimerEntry): void {
    const left = entry.due - Date.now();
    entry.handle = setTimeout(() => this.fire(entry), Math.max(0, Math.min(left, MAX_DELAY)));
  }

  private fire(entry: TimerEntry): void {
    if (entry.due - Date.now() > 0) return this.arm(entry); // a link of a long chain
    this.remove(entry);
    try {
      this.node.send(entry.dest, entry.msg);
    } catch {
      // A name that is no longer registered when the timer expires: the message is dropped, as in Erlang.
    }
  }

  private remove(entry: TimerEntry): void {
    this.byRef.delete(entry.ref.key);
    entry.owner?.timers?.delete(entry);
    if (entry.handle !== null) clearTimeout(entry.handle);
    entry.handle = null;
  }

  /** Remaining ms if the timer was pending (the message will not be sent); false otherwise. */
  cancel(ref: Ref): number | false {
    const entry = this.byRef.get(ref.key);
    if (entry === undefined) return false;
    this.remove(entry);
    return Math.max(0, entry.due - Date.now());
  }

  read(ref: Ref): number | false {
    const entry = this.byRef.get(ref.key);
    return entry === undefined ? false : Math.max(0, entry.due - Date.now());
  }

  /** Discards the timers aimed at a process that exited. */
  ownerExited(p: Proc): void {
    const set = p.timers;
    if (set === null) return;
    p.timers = null;
    for (const entry of set) {
      this.byRef.delete(entry.ref.key);
      if (entry.handle !== null) clearTimeout(entry.handle);
    }
  }

  clear(): void {
    for (const entry of this.byRef.values()) if (entry.handle !== null) clearTimeout(entry.handle);
    this.byRef.clear();
  }

  get size(): number {
    return this.byRef.size;
  }
}
