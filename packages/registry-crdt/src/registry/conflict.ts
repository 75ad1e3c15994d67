import { Pid } from '@troupe/actor-core';
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
 * `n` as V8 stores a small integer (unboxed) when it fits in an int32: a
 * decoded integer can arrive as a boxed double, and one such value in a
 * field makes that field a boxed double (16 B more) in every object of the shape.
 */
export function smallInt(n: number): number {
  return n <= 0x7fffffff && n >= -0x80000000 ? n | 0 : n;
}

/**
 * How a peer's claim is stored here. A decoded claim holds its own Pid
 * object (plus a fresh node-name string and a boxed creation): ~110 B per
 * name. The pid's node is implied by the claim's origin (`acceptValue`
 * checks it), so only its id and creation are kept, and `pid` is rebuilt on
 * read (a short-lived object). Never shipped: only an origin ships its own
 * claims, which are plain objects.
 */
export class PeerClaim implements Claim {
  /** Creation as a signed int32 (a small integer for V8, not a boxed double). */
  private readonly cr: number;
  private readonly pidId: number;
  readonly lc: number;
  constructor(
    private readonly node: string,
    pidId: number,
    creation: number,
    public meta: unknown,
    readonly at: number,
    lc: number,
  ) {
    this.cr = creation | 0;
    // A decoded id can be a boxed double even when small: store it as an int where it fits.
    this.pidId = smallInt(pidId);
    this.lc = smallInt(lc);
  }

  get pid(): Pid {
    return new Pid(this.node, this.pidId, this.cr >>> 0);
  }
}

/** `adopt` for registry claims: the compact stored form, sharing the origin's node-name string. */
export function adoptClaim(c: Claim, node: string): Claim {
  return new PeerClaim(node, c.pid.id, c.pid.creation, c.meta, c.at, c.lc);
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
