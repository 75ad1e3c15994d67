import { Pid, Ref } from '../pid.js';
import { BadArgError } from '../errors.js';
import type { Dest, TimeoutMessage } from '../types.js';
import type { Node } from '../node.js';
import type { Proc } from './process.js';

/** Node's setTimeout fires after 1 ms for delays above this, so longer waits are chained. */
const MAX_DELAY = 2 ** 31 - 1;

export class TimerEntry {
  /** Position in the heap; -1 once fired or cancelled. */
  slot = -1;
  constructor(
    readonly ref: Ref,
    readonly dest: Dest,
    readonly msg: unknown,
    /** When it is due, on the monotonic clock (`performance.now()` ms). */
    readonly due: number,
    /** Start order: timers due at the same time fire in the order they were set. */
    readonly seq: number,
    /** The local process the timer is aimed at: its death cancels the timer. */
    readonly owner: Proc | null,
  ) {}
}

function before(a: TimerEntry, b: TimerEntry): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}

/**
 * `sendAfter` / `startTimer` / `cancelTimer` / `readTimer` (Erlang's timer
 * BIFs). Every due time is on the monotonic clock, so a wall-clock step
 * (NTP, a VM resume) neither stalls nor hurries a timer. The timers live in
 * one binary heap ordered by (due, start order) under a single `setTimeout`
 * armed for the earliest: timers with the same delay set in order fire in
 * order, and an early wake-up of Node's timer (it rounds to whole ms) fires
 * nothing before its time — it only re-arms.
 */
export class Timers {
  private readonly byRef = new Map<string, TimerEntry>();
  private readonly heap: TimerEntry[] = [];
  private seq = 0;
  private handle: ReturnType<typeof setTimeout> | null = null;
  /** The due time the handle is armed for (Infinity: none). */
  private armedFor = Infinity;
  private readonly fireBound = (): void => this.fire();

  constructor(private readonly node: Node) {}

  start(ms: number, dest: Dest, msg: unknown, wrap: boolean): Ref {
    // Erlang: a time that is not a non-negative integer is badarg (`infinity` included).
    if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 0) {
      throw new BadArgError(`timer delay must be a finite integer number of ms >= 0, got ${String(ms)}`);
    }
    const node = this.node;
    const ref = node.makeRef();
    let owner: Proc | null = null;
    if (dest instanceof Pid && dest.node === node.name) {
      owner = node.lookup(dest);
      if (owner === null) return ref; // aimed at a dead pid: a ref that never fires
    }
    const payload = wrap ? ({ type: 'timeout', ref, msg } satisfies TimeoutMessage) : msg;
    const entry = new TimerEntry(ref, dest, payload, performance.now() + ms, ++this.seq, owner);
    this.byRef.set(ref.key, entry);
    if (owner !== null) (owner.timers ??= new Set()).add(entry);
    this.push(entry);
    if (entry.due < this.armedFor) this.arm(entry.due);
    return ref;
  }

  private arm(due: number): void {
    if (this.handle !== null) clearTimeout(this.handle);
    this.armedFor = due;
    // Rounded up: Node's timer has ms resolution and may wake a little early; fire() re-arms then.
    this.handle = setTimeout(this.fireBound, Math.min(Math.max(0, Math.ceil(due - performance.now())), MAX_DELAY));
  }

  private fire(): void {
    this.handle = null;
    this.armedFor = Infinity;
    const heap = this.heap;
    const now = performance.now();
    // Sends can start or cancel timers (a process reacting at once): take one entry at a time from the heap.
    while (heap.length > 0 && heap[0]!.due <= now) {
      const entry = heap[0]!;
      this.remove(entry);
      try {
        this.node.send(entry.dest, entry.msg);
      } catch {
        // A name that is no longer registered when the timer expires: the message is dropped, as in Erlang.
      }
    }
    if (heap.length > 0 && heap[0]!.due < this.armedFor) this.arm(heap[0]!.due);
  }

  private remove(entry: TimerEntry): void {
    this.byRef.delete(entry.ref.key);
    entry.owner?.timers?.delete(entry);
    this.unheap(entry);
  }

  /** Remaining ms if the timer was pending (the message will not be sent); false otherwise. */
  cancel(ref: Ref): number | false {
    const entry = this.byRef.get(ref.key);
    if (entry === undefined) return false;
    this.remove(entry);
    return this.left(entry);
  }

  read(ref: Ref): number | false {
    const entry = this.byRef.get(ref.key);
    return entry === undefined ? false : this.left(entry);
  }

  /** Whole ms left, as Erlang reports them. */
  private left(entry: TimerEntry): number {
    return Math.max(0, Math.ceil(entry.due - performance.now()));
  }

  /** Discards the timers aimed at a process that exited. */
  ownerExited(p: Proc): void {
    const set = p.timers;
    if (set === null) return;
    p.timers = null;
    for (const entry of set) {
      this.byRef.delete(entry.ref.key);
      this.unheap(entry);
    }
  }

  clear(): void {
    if (this.handle !== null) clearTimeout(this.handle);
    this.handle = null;
    this.armedFor = Infinity;
    for (const e of this.heap) e.slot = -1;
    this.heap.length = 0;
    this.byRef.clear();
  }

  get size(): number {
    return this.byRef.size;
  }

  // ---- the heap ----------------------------------------------------------------

  private push(e: TimerEntry): void {
    e.slot = this.heap.length;
    this.heap.push(e);
    this.up(e.slot);
  }

  private unheap(e: TimerEntry): void {
    const i = e.slot;
    if (i < 0) return;
    e.slot = -1;
    const heap = this.heap;
    const last = heap.pop()!;
    if (last !== e) {
      heap[i] = last;
      last.slot = i;
      this.up(i);
      this.down(last.slot);
    }
    // The armed timeout stays: if it was for `e`, it wakes, finds nothing due and re-arms.
    if (heap.length === 0 && this.handle !== null) {
      clearTimeout(this.handle);
      this.handle = null;
      this.armedFor = Infinity;
    }
  }

  private up(i: number): void {
    const heap = this.heap;
    const e = heap[i]!;
    while (i > 0) {
      const pi = (i - 1) >> 1;
      const p = heap[pi]!;
      if (!before(e, p)) break;
      heap[i] = p;
      p.slot = i;
      i = pi;
    }
    heap[i] = e;
    e.slot = i;
  }

  private down(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const e = heap[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(heap[r]!, heap[l]!) ? r : l;
      const child = heap[c]!;
      if (!before(child, e)) break;
      heap[i] = child;
      child.slot = i;
      i = c;
    }
    heap[i] = e;
    e.slot = i;
  }
}
