import { performance } from 'node:perf_hooks';
import type { MetricFamily } from '@troupe/actor-core';
import { RevisionConflictError, SequenceConflictError } from '../errors.js';
import type { PersistenceStore } from './store.js';

/** What a write stored: journal appends, durable-state upserts, snapshots. */
type WriteKind = 'journal' | 'state' | 'snapshot';
/** `conflict`: another writer won (sequence or revision); `error`: any other failure. */
type WriteOutcome = 'ok' | 'conflict' | 'error';

const KINDS: readonly WriteKind[] = ['journal', 'state', 'snapshot'];
const OUTCOMES: readonly WriteOutcome[] = ['ok', 'conflict', 'error'];

interface Counts {
  writes: Record<WriteOutcome, number>;
  seconds: number;
  inFlight: number;
}

/** A store that counts its writes; `metrics()` gives them as `/metrics` families. */
export interface MeteredStore extends PersistenceStore {
  metrics(): MetricFamily[];
}

/**
 * Wraps `store` so every write is counted with its outcome and its latency
 * (from the call to the store's commit), for a node's `/metrics`: the
 * store's write rate is `rate(troupe_store_writes_total)`, its mean write
 * latency `rate(troupe_store_write_seconds_total) / rate(troupe_store_writes_total)`.
 * Reads are not counted. Costs two clock reads per write.
 */
export function meteredStore(store: PersistenceStore): MeteredStore {
  const counts = new Map<WriteKind, Counts>(KINDS.map((k) => [k, { writes: { ok: 0, conflict: 0, error: 0 }, seconds: 0, inFlight: 0 }]));
  const timed = async <T>(kind: WriteKind, write: () => Promise<T>): Promise<T> => {
    const c = counts.get(kind)!;
    const t0 = performance.now();
    c.inFlight++;
    try {
      const v = await write();
      c.writes.ok++;
      return v;
    } catch (e) {
      c.writes[e instanceof SequenceConflictError || e instanceof RevisionConflictError ? 'conflict' : 'error']++;
      throw e;
    } finally {
      c.inFlight--;
      c.seconds += (performance.now() - t0) / 1000;
    }
  };
  const { journal, snapshots, states } = store;
  return {
    journal: {
      append: (req) => timed('journal', () => journal.append(req)),
      replay: (id, from, to, max) => journal.replay(id, from, to, max),
      highestSeq: (id) => journal.highestSeq(id),
      deleteTo: (id, to) => journal.deleteTo(id, to),
      processed: (id, keep) => journal.processed(id, keep),
      pruneProcessed: (id, keep) => journal.pruneProcessed(id, keep),
    },
    snapshots: {
      save: (id, meta, state) => timed('snapshot', () => snapshots.save(id, meta, state)),
      latest: (id, criteria) => snapshots.latest(id, criteria),
      delete: (id, seq) => snapshots.delete(id, seq),
      deleteMatching: (id, criteria) => snapshots.deleteMatching(id, criteria),
    },
    states: {
      get: (id) => states.get(id),
      upsert: (id, rev, state, version) => timed('state', () => states.upsert(id, rev, state, version)),
      delete: (id, rev) => states.delete(id, rev),
    },
    close: () => store.close(),
    metrics: () => [
      {
        name: 'troupe_store_writes_total',
        help: 'Durable-store writes (journal appends, state upserts, snapshots) by outcome: ok, conflict (another writer won), error.',
        type: 'counter',
        samples: KINDS.flatMap((kind) => OUTCOMES.map((outcome) => ({ labels: { kind, outcome }, value: counts.get(kind)!.writes[outcome] }))),
      },
      {
        name: 'troupe_store_write_seconds_total',
        help: 'Time spent in durable-store writes until committed or failed, in seconds.',
        type: 'counter',
        samples: KINDS.map((kind) => ({ labels: { kind }, value: counts.get(kind)!.seconds })),
      },
      {
        name: 'troupe_store_writes_in_flight',
        help: 'Durable-store writes started and not yet committed or failed.',
        type: 'gauge',
        samples: KINDS.map((kind) => ({ labels: { kind }, value: counts.get(kind)!.inFlight })),
      },
    ],
  };
}
