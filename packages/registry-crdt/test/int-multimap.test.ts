import { describe, expect, it } from 'vitest';
import { IntMultiMap } from '../src/registry/int-multimap.js';
import { rng } from './sim.js';

/** The same pairs in a plain Map, to compare against. */
function model(): { add(k: number, v: number): void; delete(k: number, v: number): boolean; take(k: number): number[]; size(): number; has(k: number): boolean } {
  const m = new Map<number, number[]>();
  return {
    add(k, v) {
      m.set(k, [...(m.get(k) ?? []), v]);
    },
    delete(k, v) {
      const vs = m.get(k);
      const i = vs?.indexOf(v) ?? -1;
      if (i < 0) return false;
      vs!.splice(i, 1);
      if (vs!.length === 0) m.delete(k);
      return true;
    },
    take(k) {
      const vs = m.get(k) ?? [];
      m.delete(k);
      return vs;
    },
    size: () => [...m.values()].reduce((s, vs) => s + vs.length, 0),
    has: (k) => m.has(k),
  };
}

describe('IntMultiMap', () => {
  it('matches a Map under random adds, deletes and takes (collisions, wrap-around, growth and shrinking)', () => {
    const r = rng(7);
    for (const keySpace of [8, 100, 5000]) {
      const a = new IntMultiMap();
      const b = model();
      let next = 1;
      for (let step = 0; step < 20_000; step++) {
        const k = Math.floor(r() * keySpace);
        const x = r();
        if (x < 0.5) {
          a.add(k, next);
          b.add(k, next++);
        } else if (x < 0.85) {
          const v = 1 + Math.floor(r() * next);
          expect(a.delete(k, v)).toBe(b.delete(k, v));
        } else if (x < 0.95) {
          expect(a.take(k).sort((p, q) => p - q)).toEqual(b.take(k).sort((p, q) => p - q));
        } else {
          expect(a.has(k)).toBe(b.has(k));
        }
        if (step % 1000 === 0) expect(a.size).toBe(b.size());
      }
      for (let k = 0; k < keySpace; k++) expect(a.take(k).sort((p, q) => p - q)).toEqual(b.take(k).sort((p, q) => p - q));
      expect(a.size).toBe(0);
    }
  });

  it('keeps pairs that do not fit an int32 slot (ids beyond 2^31, a value of 0)', () => {
    const a = new IntMultiMap();
    a.add(2 ** 40, 1);
    a.add(3, 2 ** 33);
    a.add(3, 0);
    a.add(3, 5);
    expect(a.size).toBe(4);
    expect(a.has(2 ** 40)).toBe(true);
    expect(a.delete(3, 0)).toBe(true);
    expect(a.take(3).sort((p, q) => p - q)).toEqual([5, 2 ** 33]);
    expect(a.take(2 ** 40)).toEqual([1]);
    expect(a.size).toBe(0);
    a.add(1, 1);
    a.clear();
    expect(a.has(1)).toBe(false);
  });
});
