/**
 * Shared types of the owner-authoritative delta-CRDT: each entry is written only by its owner's node (see docs/DESIGN.md).
 *
 * Every entry is written only by the replica (origin) that hosts its
 * process. An origin's state is the replay of its own op log 1..upTo, so a
 * replica's knowledge of an origin is one number (a version-vector entry)
 * plus the live entries: no tombstones, no per-key clocks.
 */

/**
 * One writer incarnation: `peer` is its node name, `inc` grows with every
 * restart of the writer on the same peer (the hosting code makes sure a
 * lower `inc`, or another node incarnation, is never accepted again).
 */
export interface WriterIncarnation {
  readonly peer: string;
  readonly inc: number;
}

/** `peer#inc`: an origin as a Map key. */
export type OriginKey = string;

export function originKey(o: WriterIncarnation): OriginKey {
  return `${o.peer}#${o.inc}`;
}

/** A live entry: written by `origin`, identified there by `id` (the seq of its `add`). */
export interface Entry<V> {
  readonly origin: WriterIncarnation;
  readonly id: number;
  readonly key: string;
  value: V;
  /** Seq of the op that last wrote the value (add or update): the digest covers it. */
  ver: number;
  /** This entry's share of the origin digest (kept so removal is O(1)). */
  h: number;
}

export const OP_ADD = 0;
export const OP_RM = 1;
export const OP_UPD = 2;

/**
 * One op of an origin's log, positional to keep frames small:
 * `[seq, 0, key, value]` adds entry `seq`; `[seq, 1, target]` removes
 * entry `target`; `[seq, 2, target, value]` replaces its value.
 */
export type WireOp<V> = [seq: number, kind: 0, key: string, value: V] | [seq: number, kind: 1, target: number] | [seq: number, kind: 2, target: number, value: V];

/** A snapshot row: `[id, key, value, ver]`. */
export type WireEntry<V> = [id: number, key: string, value: V, ver: number];

/** The origin's own state as seen by a peer: how far it has integrated, and its digest there. */
export interface Seen {
  readonly up: number;
  readonly dg: number;
}

/**
 * The sync protocol between two replicas of one service. `o` is always the
 * sender's origin. Only an origin ships its own entries (no relaying), so
 * every message is about the sender's log or the receiver's log.
 */
export type SyncMsg<V> =
  /** I am `o` at `up` with digest `dg`; `seen` is my view of your origin (null: none). Also the anti-entropy probe and an ack. */
  | { t: 'hello'; o: WriterIncarnation; up: number; dg: number; seen: Seen | null }
  /** Ops `(from, to]` of my log. */
  | { t: 'delta'; o: WriterIncarnation; from: number; to: number; ops: WireOp<V>[] }
  /** I have integrated your log up to `up`. */
  | { t: 'ack'; o: WriterIncarnation; up: number }
  /** I miss your ops after `have` (-1: send me a full snapshot). */
  | { t: 'nack'; o: WriterIncarnation; have: number }
  /** Chunk `i` of `n` of snapshot `sid` of my origin at `up`; the last chunk carries the total `count` and digest `dg`. */
  | { t: 'snap'; o: WriterIncarnation; sid: number; up: number; i: number; n: number; rows: WireEntry<V>[]; count: number; dg: number };

/** What one state change did, for subscribers (pg events, registry conflicts). */
export interface Diff<V> {
  added: Entry<V>[];
  removed: Entry<V>[];
  /** Entries whose value changed in place (same identity). */
  updated: Entry<V>[];
  /**
   * Set when `removed` is a whole origin dropped without its owner's ops (the
   * peer went down or left, or a new incarnation superseded it): services
   * that must act on a lost owner (supervisor take-over) tell it from a normal removal.
   */
  dropped?: WriterIncarnation;
}

/** A message for one peer. */
export interface Out<V> {
  to: string;
  msg: SyncMsg<V>;
}
