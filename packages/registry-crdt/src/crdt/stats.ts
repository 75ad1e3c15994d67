/** Counters of one replica's sync engine: what was applied, rejected and repaired. */
export interface SyncStats {
  deltasSent: number;
  deltasApplied: number;
  opsApplied: number;
  /** Deltas (or parts) already integrated: harmless, idempotent. */
  duplicates: number;
  /** Deltas that did not start at our `upTo`: refused (causal merging condition), answered with a NACK. */
  gaps: number;
  nacksSent: number;
  acksSent: number;
  hellosSent: number;
  snapshotsSent: number;
  snapshotsApplied: number;
  /** Snapshots cut off or inconsistent: discarded, state unchanged. */
  snapshotsAborted: number;
  /** Frames that failed validation (shape, value, or op sequence). */
  malformed: number;
  /** Frames of a retired or superseded incarnation, or of a non-member. */
  stale: number;
  /** Equal `upTo` but different digest: the copy was dropped and refetched. */
  repairs: number;
}

export function emptyStats(): SyncStats {
  return {
    deltasSent: 0,
    deltasApplied: 0,
    opsApplied: 0,
    duplicates: 0,
    gaps: 0,
    nacksSent: 0,
    acksSent: 0,
    hellosSent: 0,
    snapshotsSent: 0,
    snapshotsApplied: 0,
    snapshotsAborted: 0,
    malformed: 0,
    stale: 0,
    repairs: 0,
  };
}
