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
