import { TroupeError } from '@troupe/actor-core';

/**
 * Another writer got there first: the journal's highest sequence number for
 * `id` is no longer `expectedSeq`. Of two writers of one id exactly one wins;
 * the other gets this error and nothing of its write is stored.
 */
export class SequenceConflictError extends TroupeError {
  constructor(
    readonly id: string,
    readonly expectedSeq: number,
  ) {
    super('TROUPE_ERR_SEQ_CONFLICT', `journal write for '${id}' expected highest sequence number ${expectedSeq}, but another writer moved it`);
  }
}

/** A durable-state write against a stale revision (compare-and-set lost); nothing is stored. */
export class RevisionConflictError extends TroupeError {
  constructor(
    readonly id: string,
    readonly expectedRevision: number,
  ) {
    super('TROUPE_ERR_REVISION_CONFLICT', `state write for '${id}' expected revision ${expectedRevision}, but another writer moved it`);
  }
}

/** A value that msgpack cannot keep as it is (a function, a symbol, a class instance): rejected before anything is written. */
export class SerializationError extends TroupeError {
  constructor(readonly path: string, what: string) {
    super('TROUPE_ERR_SERIALIZE', `cannot persist ${what} at ${path}: only plain data, Date, Uint8Array, bigint, Pid and Ref are stored`);
  }
}

/** Stored bytes that do not decode (a corrupt row, a foreign writer). */
export class DeserializationError extends TroupeError {
  constructor(readonly id: string, readonly seq: number, cause: unknown) {
    super('TROUPE_ERR_DESERIALIZE', `cannot decode stored record ${seq} of '${id}': ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/** The store failed (I/O, connection lost, closed): whether the write happened is unknown unless the store says otherwise. */
export class StoreError extends TroupeError {
  constructor(message: string, override readonly cause?: unknown) {
    super('TROUPE_ERR_STORE', message);
  }
}

/** A replay that produced no event within the per-event timeout. */
export class RecoveryTimeoutError extends TroupeError {
  constructor(readonly id: string, readonly timeoutMs: number) {
    super('TROUPE_ERR_RECOVERY_TIMEOUT', `recovery of '${id}' stalled: no event within ${timeoutMs} ms`);
  }
}

/** `send` / `enqueue` beyond a producer's `maxBuffered` unconfirmed messages: nothing was queued. */
export class DeliveryBufferFullError extends TroupeError {
  constructor(readonly producerId: string, readonly maxBuffered: number) {
    super('TROUPE_ERR_DELIVERY_BUFFER_FULL', `reliable producer '${producerId}' already holds ${maxBuffered} unconfirmed messages (maxBuffered); wait for confirmations before sending more`);
  }
}

/**
 * The producer stopped (or its outbox failed) before the message was
 * confirmed. Without an outbox the message may or may not have been applied;
 * with one, it is still in the outbox and a producer started with the same id resends it.
 */
export class ProducerStoppedError extends TroupeError {
  constructor(readonly producerId: string, why: string) {
    super('TROUPE_ERR_PRODUCER_STOPPED', `reliable producer '${producerId}' stopped before confirmation: ${why}`);
  }
}
