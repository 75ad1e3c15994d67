/**
 * A growable FIFO ring buffer: O(1) push/shift with no allocation per item.
 * Capacity is a power of two so the index wraps with a mask.
 */
export class Ring<T> {
  private buf: (T | undefined)[];
  private head = 0;
  private mask: number;
  length = 0;

  constructor(capacity = 8) {
    let c = 2;
    while (c < capacity) c <<= 1;
    this.buf = new Array<T | undefined>(c);
    this.mask = c - 1;
  }

  push(item: T): void {
    if (this.length > this.mask) this.grow();
    this.buf[(this.head + this.length) & this.mask] = item;
    this.length++;
  }

  /** Removes and returns the oldest item; undefined when empty. */
  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const i = this.head;
    const item = this.buf[i];
    this.buf[i] = undefined;
    this.head = (i + 1) & this.mask;
    this.length--;
    return item;
  }

  peek(): T | undefined {
    return this.length === 0 ? undefined : this.buf[this.head];
  }

  /** The i-th oldest item (0 = oldest). */
  at(i: number): T | undefined {
    return i < this.length ? this.buf[(this.head + i) & this.mask] : undefined;
  }

  /** Removes the i-th oldest item, keeping the others in order. */
  removeAt(i: number): T | undefined {
    if (i >= this.length) return undefined;
    const mask = this.mask;
    const item = this.buf[(this.head + i) & mask];
    for (let j = i; j < this.length - 1; j++) {
      this.buf[(this.head + j) & mask] = this.buf[(this.head + j + 1) & mask];
    }
    this.buf[(this.head + this.length - 1) & mask] = undefined;
    this.length--;
    return item;
  }

  /** Removes every item for which `drop` is true; returns how many. */
  removeWhere(drop: (item: T) => boolean): number {
    let w = 0;
    const n = this.length;
    const mask = this.mask;
    for (let r = 0; r < n; r++) {
      const item = this.buf[(this.head + r) & mask] as T;
      if (!drop(item)) this.buf[(this.head + w++) & mask] = item;
    }
    for (let k = w; k < n; k++) this.buf[(this.head + k) & mask] = undefined;
    this.length = w;
    return n - w;
  }

  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.length; i++) out.push(this.buf[(this.head + i) & this.mask] as T);
    return out;
  }

  clear(): void {
    this.buf.fill(undefined);
    this.head = 0;
    this.length = 0;
  }

  private grow(): void {
    const old = this.buf;
    const n = old.length;
    const next = new Array<T | undefined>(n * 2);
    for (let i = 0; i < this.length; i++) next[i] = old[(this.head + i) & this.mask];
    this.buf = next;
    this.head = 0;
    this.mask = n * 2 - 1;
  }
}
