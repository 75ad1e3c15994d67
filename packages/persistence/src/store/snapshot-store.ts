export interface SnapshotMeta {
  readonly seq: number;
  /** Wall-clock ms when it was taken. */
  readonly at: number;
  /** The snapshot schema version at write time. */
  readonly version: number;
}

export interface StoredSnapshot extends SnapshotMeta {
  readonly state: unknown;
}

/** Bounds on snapshots (all inclusive; a missing bound is unbounded). */
export interface SnapshotCriteria {
  readonly maxSeq?: number;
  readonly maxAt?: number;
  readonly minSeq?: number;
  readonly minAt?: number;
}

/**
 * Snapshots of a server's state, at most one per (id, seq): saving at a
 * sequence number already saved replaces it. `latest` is the matching
 * snapshot with the highest seq; it rejects DeserializationError when that
 * one cannot be decoded (the caller decides whether a full replay may replace it).
 */
export interface SnapshotStore {
  save(id: string, meta: SnapshotMeta, state: unknown): Promise<void>;
  latest(id: string, criteria?: SnapshotCriteria): Promise<StoredSnapshot | undefined>;
  delete(id: string, seq: number): Promise<void>;
  deleteMatching(id: string, criteria: SnapshotCriteria): Promise<void>;
}
