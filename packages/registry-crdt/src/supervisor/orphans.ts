import { hrwScore, rendezvous } from './rendezvous.js';
import type { PlacementStrategy } from './types.js';
import type { WireSpec } from './spec.js';

/** A child whose home is gone (node down, service stopped) or that its home relinquished (drain). */
export interface Orphan {
  readonly key: string;
  readonly spec: WireSpec;
  /** The node that lost or relinquished it: never a candidate for it. */
  readonly from: string;
  readonly gen: number;
  /** Relinquished by a draining home (else lost with it). */
  readonly handoff: boolean;
  /** Hand-off data of a relinquished child. */
  readonly ho: unknown;
  /** When this node learned of it (the grace of lower-ranked candidates counts from here). */
  readonly since: number;
  /** Starting it here failed: leave it to the next candidates. */
  failed: boolean;
}

/**
 * Orphans this node knows of, until some node runs them. Which node adopts
 * one is decided by the ranking over the placement targets without `from`:
 * the first starts it at once; the node ranked `r` only if nobody did after
 * `r * graceMs` (nodes can briefly disagree on the alive set, and a node
 * that joined after the loss never saw the record). Take-over is thus
 * independent of the order of events and idempotent.
 */
export class Orphans {
  private readonly m = new Map<string, Orphan>();
  /**
   * This node's rank for each orphan, valid for `ranksFor` (self and the
   * targets). `due` runs on every change a take-over brings (each arriving
   * record): ranking every orphan anew each time cost a survivor of a
   * 20-of-200-node loss ~60 ms a call, seconds in all.
   */
  private readonly ranks = new Map<string, number>();
  private ranksFor = '';

  get size(): number {
    return this.m.size;
  }

  add(o: Omit<Orphan, 'since' | 'failed'>, now: number): void {
    const had = this.m.get(o.key);
    this.ranks.delete(o.key); // `from` may differ: it is never a candidate
    // A later report (the relinquish, then the drop of its owner) keeps the first time and any hand-off data.
    this.m.set(o.key, {
      ...o,
      handoff: o.handoff || had?.handoff === true,
      ho: o.ho === undefined ? had?.ho : o.ho,
      since: had?.since ?? now,
      failed: had?.failed ?? false,
    });
  }

  delete(key: string): void {
    this.m.delete(key);
    this.ranks.delete(key);
  }

  /**
   * The orphans `self` should start now; drops those `claimed` (running
   * somewhere). `progressAt` is when a peer's new child record last arrived:
   * while a take-over is visibly under way the lower-ranked wait longer (up
   * to 4 more graces), so a big but slow take-over is not duplicated.
   */
  due(self: string, now: number, graceMs: number, progressAt: number, targets: readonly string[], strategy: PlacementStrategy, claimed: (key: string) => boolean): Orphan[] {
    const out: Orphan[] = [];
    const at = `${self}\u0001${targets.join('\u0000')}`;
    if (at !== this.ranksFor) {
      this.ranks.clear();
      this.ranksFor = at;
    }
    for (const o of this.m.values()) {
      if (claimed(o.key)) {
        this.delete(o.key);
        continue;
      }
      if (o.failed) continue;
      let r = this.ranks.get(o.key);
      if (r === undefined) this.ranks.set(o.key, (r = rankOf(self, o.key, o.from, targets, strategy)));
      const from = Math.max(o.since, Math.min(progressAt, o.since + 4 * graceMs));
      if (r === 0 || (r > 0 && now - from >= r * graceMs)) out.push(o);
    }
    return out;
  }

  values(): IterableIterator<Orphan> {
    return this.m.values();
  }
}

/**
 * Where `self` comes in the ranking of `key` over `targets` without `from`
 * (-1: not a candidate). For rendezvous hashing, without sorting: the number
 * of candidates scoring above `self` (ties to the lower name, as `rank`).
 */
export function rankOf(self: string, key: string, from: string, targets: readonly string[], strategy: PlacementStrategy): number {
  if (strategy !== rendezvous) return strategy.rank(key, targets.filter((n) => n !== from)).indexOf(self);
  if (self === from || !targets.includes(self)) return -1;
  const mine = hrwScore(key, self);
  let r = 0;
  for (const n of targets) {
    if (n === self || n === from) continue;
    const s = hrwScore(key, n);
    if (s > mine || (s === mine && n < self)) r++;
  }
  return r;
}
