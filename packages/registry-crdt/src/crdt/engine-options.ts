import type { ValueCheck } from './validate.js';
import type { WriterIncarnation, Diff } from './types.js';

export interface EngineOptions<V> {
  /** This replica's origin: the only one it writes. */
  self: WriterIncarnation;
  /** Checks a value from a peer (e.g. "a pid of that peer's node"); default: accept. */
  acceptValue?: ValueCheck;
  /** Own ops kept for delta shipping (default 10 000); older peers get a snapshot. */
  maxLogOps?: number;
  /** Ops per DELTA frame (default 500). */
  maxOpsPerDelta?: number;
  /** Rows per snapshot chunk (default 1000). */
  chunkSize?: number;
  /** Deltas held while a snapshot of the same origin is staged (default 1000). */
  maxQueuedDeltas?: number;
  /**
   * Turns a value a peer sent (already checked by `acceptValue`) into the
   * form this replica stores, e.g. a compact one (fields its origin implies
   * dropped). Only peers' entries pass here; own values are stored as given.
   */
  adopt?: (value: V, origin: WriterIncarnation) => V;
  /** Called after each state change with what changed (synchronously). */
  onDiff?: (diff: Diff<V>) => void;
  /** A peer became synced (its log integrated up to what it advertised): it is now a placement target. */
  onPeerSynced?: (peer: string) => void;
  /** Rejections, repairs and aborts, for logging. */
  onEvent?: (event: string, data: Record<string, unknown>) => void;
}

/** Per-peer view, for diagnostics and membership status. */
export interface PeerSyncInfo {
  peer: string;
  origin: WriterIncarnation | null;
  ready: boolean;
  synced: boolean;
  /** How far we integrated its log, and how far it says it is. */
  have: number;
  advertised: number;
  /** How far it integrated ours. */
  acked: number;
}
