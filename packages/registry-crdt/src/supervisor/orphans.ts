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

  get size(): number {
    return this.m.size;
  }

  add(o: Omit<Orphan, 'since' | 'failed'>, now: number): void {
    const had = this.m.get(o.key);
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
  }

  /**
   * The orphans `self` should start now; drops those `claimed` (running
   * somewhere). `progressAt` is when a peer's new child record last arrived:
   * while a take-over is visibly under way the lower-ranked wait longer (up
   * to 4 more graces), so a big but slow take-over is not duplicated.
   */
  due(self: string, now: number, graceMs: number, progressAt: number, targets: readonly string[], strategy: PlacementStrategy, claimed: (key: string) => boolean): Orphan[] {
    const out: Orphan[] = [];
    for (const o of this.m.values()) {
      if (claimed(o.key)) {
        this.m.delete(o.key);
        continue;
      }
      if (o.failed) continue;
      const ranked = strategy.rank(
        o.key,
        targets.filter((n) => n !== o.from),
      );
      const r = ranked.indexOf(self);
      const from = Math.max(o.since, Math.min(progressAt, o.since + 4 * graceMs));
      if (r === 0 || (r > 0 && now - from >= r * graceMs)) out.push(o);
    }
    return out;
  }

  values(): IterableIterator<Orphan> {
    return this.m.values();
  }
}
