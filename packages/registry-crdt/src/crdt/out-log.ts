import type { WireOp } from './types.js';

/**
 * The owner's recent ops, kept only to ship intervals to peers. Bounded:
 * ops every current peer acked are dropped, and so is everything beyond
 * `maxOps` (a peer that falls behind that gets a snapshot instead), so
 * memory never grows with the number of operations ever made.
 */
export class OutLog<V> {
  private ops: WireOp<V>[] = [];
  private head = 0;
  /** Seq of the op just before the first one kept. */
  base = 0;

  constructor(private readonly maxOps: number) {}

  get size(): number {
    return this.ops.length - this.head;
  }

  push(op: WireOp<V>): void {
    this.ops.push(op);
    if (this.size > this.maxOps) this.dropThrough(this.base + 1);
  }

  /** Whether ops `(from, upTo]` are all still here. */
  covers(from: number): boolean {
    return from >= this.base;
  }

  /** Ops `(from, from + max]`; call only when `covers(from)`. */
  slice(from: number, max: number): WireOp<V>[] {
    const start = this.head + (from - this.base);
    return this.ops.slice(start, Math.min(this.ops.length, start + max));
  }

  /** Forgets ops with seq <= `seq`. */
  dropThrough(seq: number): void {
    const n = Math.min(seq - this.base, this.size);
    if (n <= 0) return;
    this.head += n;
    this.base += n;
    // Compact now and then rather than shifting on every drop.
    if (this.head > 1024 && this.head * 2 > this.ops.length) {
      this.ops = this.ops.slice(this.head);
      this.head = 0;
    }
    if (this.size === 0) {
      this.ops = [];
      this.head = 0;
    }
  }
}
