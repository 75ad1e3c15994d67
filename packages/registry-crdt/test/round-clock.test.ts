import { describe, expect, it } from 'vitest';
import { RoundClock } from '../src/sync/round-clock.js';

/** The instants `n` consecutive rounds are armed for, each timer firing on time. */
function instants(c: RoundClock, start: number, n: number): { at: number; full: boolean }[] {
  const out: { at: number; full: boolean }[] = [];
  let now = start;
  for (let i = 0; i < n; i++) {
    now += c.next(now);
    out.push({ at: now, full: c.isFull() });
  }
  return out;
}

describe('RoundClock (when anti-entropy rounds fall)', () => {
  const T0 = 1_764_000_000_123;

  it("one node's replicas arm the same instants, wherever each starts; rounds one period apart", () => {
    const a = instants(new RoundClock('a@h', 5000, 12), T0, 30);
    const b = instants(new RoundClock('a@h', 5000, 12), T0 + 3217, 29);
    expect(b.map((r) => r.at)).toEqual(a.slice(1).map((r) => r.at));
    for (let i = 1; i < a.length; i++) expect(a[i]!.at - a[i - 1]!.at).toBe(5000);
  });

  it('the first round is within one period; a period of 2 s or more puts rounds on whole seconds', () => {
    for (const start of [T0, T0 + 1, T0 + 4999]) {
      const d = new RoundClock('n@h', 5000, 12).next(start);
      expect(d).toBeGreaterThan(0);
      expect(d).toBeLessThanOrEqual(5000);
      expect((start + d) % 1000).toBe(0);
    }
  });

  it('nodes get different phases: a cluster is spread over the period', () => {
    const phases = new Set(Array.from({ length: 40 }, (_, i) => (T0 + new RoundClock(`n${i}@h`, 5000, 12).next(T0)) % 5000));
    expect(phases.size).toBe(5);
    const fine = new Set(Array.from({ length: 40 }, (_, i) => (T0 + new RoundClock(`n${i}@h`, 200, 5).next(T0)) % 200));
    expect(fine.size).toBeGreaterThan(20);
  });

  it('every fullEvery-th round is full, at a phase of its own per node', () => {
    const firstFull = new Set<number>();
    for (let i = 0; i < 30; i++) {
      const rs = instants(new RoundClock(`n${i}@h`, 5000, 12), T0, 48);
      const full = rs.flatMap((r, k) => (r.full ? [k] : []));
      expect(full).toHaveLength(4);
      expect(full.slice(1).map((k, j) => k - full[j]!)).toEqual([12, 12, 12]);
      firstFull.add(rs[full[0]!]!.at % 60_000);
    }
    expect(firstFull.size).toBeGreaterThan(10);
  });

  it('a timer that fires a ms early by the wall clock does not run the same round twice', () => {
    const c = new RoundClock('a@h', 1000, 4);
    const at = T0 + c.next(T0);
    expect(c.next(at - 1)).toBe(1001); // the round after, not the armed one again
  });

  it('a wall clock set back an hour does not stop the rounds', () => {
    const c = new RoundClock('a@h', 5000, 12);
    const at = T0 + c.next(T0);
    const back = at - 3_600_000;
    const d = c.next(back);
    expect(d).toBeGreaterThan(0);
    expect(d).toBeLessThanOrEqual(5000);
    expect((back + d) % 1000).toBe(0);
  });
});
