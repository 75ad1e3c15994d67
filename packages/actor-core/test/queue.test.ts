import { describe, expect, it } from 'vitest';
import { Queue } from '../src/internal/queue.js';

/** A seeded PRNG so the random walk is the same on every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

describe('Queue (segmented mailbox)', () => {
  it('is FIFO across many segments and keeps no items after draining', () => {
    const q = new Queue<number>(4);
    for (let i = 0; i < 100_000; i++) q.push(i);
    expect(q.length).toBe(100_000);
    for (let i = 0; i < 100_000; i++) expect(q.shift()).toBe(i);
    expect(q.length).toBe(0);
    expect(q.shift()).toBeUndefined();
  });

  it('matches an array model under random push/shift/removeWhere/at', () => {
    const r = rng(42);
    const q = new Queue<number>(4);
    const model: number[] = [];
    let next = 0;
    for (let step = 0; step < 50_000; step++) {
      const op = r();
      if (op < 0.5) {
        q.push(next);
        model.push(next++);
      } else if (op < 0.8) {
        expect(q.shift()).toBe(model.shift());
      } else if (op < 0.9) {
        const mod = 2 + Math.floor(r() * 5);
        const once = r() < 0.5;
        const before = q.length;
        const removed = q.removeWhere((x) => x % mod === 0, once);
        const idx = model.findIndex((x) => x % mod === 0);
        if (once) {
          if (idx >= 0) expect(removed).toBe(model.splice(idx, 1)[0]);
          else expect(q.length).toBe(before);
        } else {
          for (let i = model.length - 1; i >= 0; i--) if (model[i]! % mod === 0) model.splice(i, 1);
        }
      } else {
        const i = Math.floor(r() * (model.length + 1));
        expect(q.at(i)).toBe(model[i]);
      }
      expect(q.length).toBe(model.length);
    }
    expect(q.toArray()).toEqual(model);
  });

  it('removeAt keeps the others in order', () => {
    const q = new Queue<string>(2);
    for (const x of ['a', 'b', 'c', 'd', 'e']) q.push(x);
    expect(q.removeAt(1)).toBe('b');
    expect(q.removeAt(3)).toBe('e');
    expect(q.toArray()).toEqual(['a', 'c', 'd']);
    q.push('f');
    expect(q.toArray()).toEqual(['a', 'c', 'd', 'f']);
  });
});
