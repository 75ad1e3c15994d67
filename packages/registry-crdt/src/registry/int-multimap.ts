const MIN_BITS = 4;

/**
 * An int32 → int32 multimap: open addressing (linear probing, backward-shift
 * deletion) over one Int32Array of [key, value] slots, at most 3/4 full.
 * The registry indexes its own claims by pid id with it: a Map costs 28 B
 * per slot and is up to half empty after doubling (~55 B per name); this
 * costs 8 B per slot (outside the JS heap, in the array's buffer). A value
 * of 0 marks an empty slot; pairs that do not fit (a value ≤ 0, anything
 * beyond int32) go to a Map instead.
 */
export class IntMultiMap {
  private t: Int32Array;
  private bits: number;
  private n = 0;
  private spill: Map<number, number[]> | null = null;

  constructor() {
    this.bits = MIN_BITS;
    this.t = new Int32Array(2 << MIN_BITS);
  }

  /** Number of pairs. */
  get size(): number {
    let s = this.n;
    if (this.spill !== null) for (const vs of this.spill.values()) s += vs.length;
    return s;
  }

  add(k: number, v: number): void {
    if ((k | 0) !== k || (v | 0) !== v || v <= 0) {
      const vs = (this.spill ??= new Map()).get(k);
      if (vs === undefined) this.spill.set(k, [v]);
      else vs.push(v);
      return;
    }
    if ((this.n + 1) * 4 > 3 << this.bits) this.resize(this.bits + 1);
    this.put(k, v);
    this.n++;
  }

  /** Bytes of the slot array (outside the JS heap). */
  get byteLength(): number {
    return this.t.byteLength;
  }

  has(k: number): boolean {
    if (this.spill?.has(k) === true) return true;
    return (k | 0) === k && this.find(k, 0) >= 0;
  }

  /** Removes one pair; false if absent. */
  delete(k: number, v: number): boolean {
    const vs = this.spill?.get(k);
    if (vs !== undefined) {
      const i = vs.indexOf(v);
      if (i >= 0) {
        vs.splice(i, 1);
        if (vs.length === 0) this.spill!.delete(k);
        return true;
      }
    }
    if ((k | 0) !== k || (v | 0) !== v || v <= 0) return false;
    const i = this.find(k, v);
    if (i < 0) return false;
    this.removeAt(i);
    return true;
  }

  /** Removes every pair of `k`; returns their values. */
  take(k: number): number[] {
    const out = this.spill?.get(k) ?? [];
    if (out.length > 0) this.spill!.delete(k);
    if ((k | 0) !== k) return out;
    for (let i = this.find(k, 0); i >= 0; i = this.find(k, 0)) {
      out.push(this.t[2 * i + 1]!);
      this.removeAt(i);
    }
    return out;
  }

  clear(): void {
    this.bits = MIN_BITS;
    this.t = new Int32Array(2 << MIN_BITS);
    this.n = 0;
    this.spill = null;
  }

  private home(k: number): number {
    return Math.imul(k, 0x9e3779b1) >>> (32 - this.bits);
  }

  /** Slot of `(k, v)`, or of any pair of `k` when `v` is 0; -1 if none. */
  private find(k: number, v: number): number {
    const t = this.t;
    const mask = (1 << this.bits) - 1;
    for (let i = this.home(k); ; i = (i + 1) & mask) {
      const sv = t[2 * i + 1]!;
      if (sv === 0) return -1;
      if (t[2 * i] === k && (v === 0 || sv === v)) return i;
    }
  }

  private put(k: number, v: number): void {
    const t = this.t;
    const mask = (1 << this.bits) - 1;
    let i = this.home(k);
    while (t[2 * i + 1] !== 0) i = (i + 1) & mask;
    t[2 * i] = k;
    t[2 * i + 1] = v;
  }

  /** Empties slot `i`, moving later pairs of its probe run back so lookups never stop early. */
  private removeAt(i: number): void {
    const t = this.t;
    const mask = (1 << this.bits) - 1;
    for (let j = (i + 1) & mask; t[2 * j + 1] !== 0; j = (j + 1) & mask) {
      const h = this.home(t[2 * j]!);
      // The pair at j may fill the hole at i only if i lies on its probe path [h, j).
      if (j > i ? h <= i || h > j : h <= i && h > j) {
        t[2 * i] = t[2 * j]!;
        t[2 * i + 1] = t[2 * j + 1]!;
        i = j;
      }
    }
    t[2 * i] = 0;
    t[2 * i + 1] = 0;
    this.n--;
    if (this.bits > MIN_BITS && this.n * 8 < 1 << this.bits) this.resize(this.bits - 1);
  }

  private resize(bits: number): void {
    const old = this.t;
    this.bits = bits;
    this.t = new Int32Array(2 << bits);
    for (let i = 1; i < old.length; i += 2) if (old[i] !== 0) this.put(old[i - 1]!, old[i]!);
  }
}
