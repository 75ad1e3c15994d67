import type { SnapshotCriteria, SnapshotMeta } from '../store/snapshot-store.js';
import type { ProcessedRetention } from '../store/journal.js';

export function matchesSnapshot(m: SnapshotMeta, c: SnapshotCriteria): boolean {
  return (
    (c.maxSeq === undefined || m.seq <= c.maxSeq) &&
    (c.minSeq === undefined || m.seq >= c.minSeq) &&
    (c.maxAt === undefined || m.at <= c.maxAt) &&
    (c.minAt === undefined || m.at >= c.minAt)
  );
}

/** `newestFirst` cut to the retention: at most `count`, none older than `since`. */
export function retainedProcessed<T extends { at: number }>(newestFirst: readonly T[], keep: ProcessedRetention): T[] {
  const out: T[] = [];
  for (const p of newestFirst) {
    if (out.length >= keep.count) break;
    if (p.at >= keep.since) out.push(p);
  }
  return out;
}

/** The largest sequence number, time or count a store is asked about (Infinity becomes this). */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/** A bound as an integer SQL accepts: Infinity → MAX_SEQ, negatives → 0. */
export function clampSeq(n: number): number {
  return n > MAX_SEQ ? MAX_SEQ : n < 0 ? 0 : Math.floor(n);
}

/** Snapshot criteria as `[minSeq, maxSeq, minAt, maxAt]`, every bound present. */
export function snapshotBounds(c: SnapshotCriteria): [number, number, number, number] {
  return [clampSeq(c.minSeq ?? 0), clampSeq(c.maxSeq ?? MAX_SEQ), clampSeq(c.minAt ?? 0), clampSeq(c.maxAt ?? MAX_SEQ)];
}
