import type { Pid } from '@troupe/actor-core';
import type { Entry } from '../crdt/types.js';

/** One registration as replicated: written once by the pid's node; only `meta` can change (by that node). */
export interface Claim {
  readonly pid: Pid;
  meta: unknown;
  /** HLC of the claim: wall ms and logical counter. Immutable. */
  readonly at: number;
  readonly lc: number;
}

/**
 * Which claim keeps a name when several are visible (concurrent claims, or
 * a healed split). `first` (default): the earliest claim, by its HLC;
 * `latest`: the most recent one. Ties (same HLC) go to the lower node name,
 * then the lower writer incarnation, then the earlier op. The inputs are
 * immutable claim data only, so every node computes the same winner.
 */
export type ConflictRule = 'first' | 'latest';

export function compareClaims(rule: ConflictRule, a: Entry<Claim>, b: Entry<Claim>): number {
  const t = a.value.at - b.value.at || a.value.lc - b.value.lc;
  if (t !== 0) return rule === 'first' ? t : -t;
  if (a.origin.peer !== b.origin.peer) return a.origin.peer < b.origin.peer ? -1 : 1;
  return a.origin.inc - b.origin.inc || a.id - b.id;
}

/** The surviving claim among `claims` (non-empty). */
export function winnerOf<C extends Claim>(rule: ConflictRule, claims: Iterable<Entry<C>>): Entry<C> {
  let best: Entry<C> | undefined;
  for (const c of claims) if (best === undefined || compareClaims(rule, c, best) < 0) best = c;
  return best!;
}
