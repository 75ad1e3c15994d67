/** One event as the journal keeps it: its place in the id's sequence and the schema version it was written with. */
export interface PersistedEvent {
  readonly seq: number;
  readonly event: unknown;
  /** The event schema version at write time; a server may upgrade older ones on replay. */
  readonly version: number;
  /** Wall-clock ms when the write was committed (the store's clock). */
  readonly writtenAt: number;
}

export interface EventToWrite {
  readonly event: unknown;
  readonly version: number;
}

/** A command recorded as done: a retry carrying the same message id gets `reply` again. */
export interface ProcessedCommand {
  readonly messageId: string;
  readonly reply: unknown;
  /** The journal's highest sequence number once the command's events were written. */
  readonly seq: number;
  readonly at: number;
}

/**
 * One atomic write: all of `events` (numbered `expectedSeq + 1 ...`) and the
 * `processed` record, or nothing. It succeeds only if the id's highest
 * sequence number is still `expectedSeq`; otherwise it rejects with
 * SequenceConflictError. A write of no events checks nothing and never
 * conflicts (it moves no sequence number): it only records `processed`.
 */
export interface AppendRequest {
  readonly id: string;
  readonly expectedSeq: number;
  readonly events: readonly EventToWrite[];
  readonly processed?: { readonly messageId: string; readonly reply: unknown };
}

/** Which processed-command records to keep: the newest `count`, none older than `since` (ms, wall clock). */
export interface ProcessedRetention {
  readonly count: number;
  readonly since: number;
}

/**
 * An event journal: per id, a gap-free sequence starting at 1.
 *
 * - `append` resolves only once the write is committed as durably as the
 *   store is configured to; it rejects with SequenceConflictError (another
 *   writer won), SerializationError (nothing written; other writes grouped
 *   with it are unaffected) or StoreError.
 * - `replay` returns events with `fromSeq <= seq <= toSeq`, in order, at most
 *   `max` of them (all bounds inclusive; `from > to` or `max = 0` give none).
 * - `highestSeq` is 0 for an unknown id, and deletes never lower it.
 * - `deleteTo` removes events up to `toSeq` inclusive (and never more than exist).
 */
export interface Journal {
  append(req: AppendRequest): Promise<void>;
  replay(id: string, fromSeq: number, toSeq: number, max: number): Promise<PersistedEvent[]>;
  highestSeq(id: string): Promise<number>;
  deleteTo(id: string, toSeq: number): Promise<void>;
  /** The processed commands retained for `id`, newest first. */
  processed(id: string, keep: ProcessedRetention): Promise<ProcessedCommand[]>;
  /** Forgets processed commands outside `keep`. */
  pruneProcessed(id: string, keep: ProcessedRetention): Promise<void>;
}
