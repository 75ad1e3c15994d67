import type { EventTimeout, ExitReason, IdleTimeout, ServerContext } from '@troupe/actor-core';
import type { Journal } from '../store/journal.js';
import type { SnapshotStore } from '../store/snapshot-store.js';

type MaybeAsync<T> = T | Promise<T>;

/**
 * What a handler decides: the events to persist (none: nothing is written),
 * then, once they are stored, optionally stop (OTP's `stop`) or arm an idle
 * timeout (as a GenServer's `timeout`).
 */
export interface Effect<Ev, Info = never> {
  readonly events?: readonly Ev[];
  readonly stop?: ExitReason;
  readonly timeout?: number | EventTimeout<Info>;
}

/** A command's effect and its reply, sent only after the events are durably stored. */
export interface CommandEffect<Ev, Reply, Info = never> extends Effect<Ev, Info> {
  readonly reply: Reply;
}

/**
 * An event-sourced server: commands decide events, events make the state.
 *
 * - `handleCommand` (calls) returns the events to persist and the reply; it
 *   must not change `state` (the state changes only by `handleEvent`, after
 *   the write). A throw crashes the server before anything is written.
 * - `handleEvent` folds one event into the state and returns the new state.
 *   It must be pure and total: it also runs on replay, years later.
 * - `handleCast` / `handleInfo`: as commands, with no reply.
 * - `messageId`: a command's idempotency key (e.g. a client's request id);
 *   a command whose id was already processed gets the stored reply and runs
 *   nothing. The id and reply are stored in the same atomic write as the events.
 * - `eventVersion` (default 1) is stored with each new event; on replay,
 *   `upgradeEvent(event, version)` turns an older one into today's shape.
 *   Likewise `snapshotVersion` / `upgradeSnapshot` for snapshots.
 * - `onRecovered` runs once the state is rebuilt, before any message.
 * - `handleDelivery`: a message from a `ReliableProducer`, as a cast that
 *   is applied once per producer sequence number (see `DeliveryMeta`): the
 *   producer's high-water mark is stored in the same atomic write as the
 *   events it returns, so a resent duplicate is confirmed without running
 *   again. Without it, deliveries are dropped (with a warning).
 */
export interface EventSourcedBehaviour<S, Cmd, Ev, Reply, Cast = never, Info = never, Args = string, Msg = never> {
  readonly name?: string;
  persistenceId(args: Args): string;
  initialState(args: Args): S;
  handleCommand(cmd: Cmd, state: S, ctx: ServerContext): MaybeAsync<CommandEffect<Ev, Reply, Info>>;
  handleEvent(state: S, event: Ev): S;
  handleCast?(cast: Cast, state: S, ctx: ServerContext): MaybeAsync<Effect<Ev, Info>>;
  handleInfo?(msg: Info | IdleTimeout, state: S, ctx: ServerContext): MaybeAsync<Effect<Ev, Info>>;
  handleDelivery?(msg: Msg, state: S, meta: DeliveryMeta, ctx: ServerContext): MaybeAsync<DeliveryEffect<Ev>>;
  messageId?(cmd: Cmd): string | undefined;
  onRecovered?(state: S, ctx: ServerContext): void;
  terminate?(reason: ExitReason, state: S, ctx: ServerContext): unknown;
  /** Default 1; must be an integer >= 1 (version 0 is the journal record of delivery marks). */
  readonly eventVersion?: number;
  upgradeEvent?(event: unknown, version: number): Ev;
  readonly snapshotVersion?: number;
  upgradeSnapshot?(state: unknown, version: number): S;
}

/** Which message of which producer a `handleDelivery` gets. */
export interface DeliveryMeta {
  readonly producerId: string;
  /** 1, 2, 3, ... per producer, applied in this order and once each. */
  readonly seq: number;
}

/** What a delivered message decides: the events to persist (with the producer's mark, in one write). */
export interface DeliveryEffect<Ev> {
  readonly events?: readonly Ev[];
}

/** How long a command's message id is remembered (both bounds apply: the newest `count`, none older than `maxAgeMs`). */
export interface ProcessedIdRetention {
  /** Default 1000. */
  readonly count?: number;
  /** Default 24 h. */
  readonly maxAgeMs?: number;
}

export interface EventSourcedOptions {
  readonly journal: Journal;
  /** Without it no snapshot is taken or read. */
  readonly snapshots?: SnapshotStore;
  /** A snapshot after every `snapshotEvery` events (needs `snapshots`). */
  readonly snapshotEvery?: number;
  /** Snapshots kept after each new one (default 2); older ones are deleted. */
  readonly keepSnapshots?: number;
  /**
   * If the latest snapshot cannot be read (corrupt, or its upgrade throws),
   * replay every event instead of failing recovery. Default false (recovery
   * fails: the events before it may have been deleted).
   */
  readonly snapshotIsOptional?: boolean;
  readonly processedIds?: ProcessedIdRetention;
  /** ms recovery waits for each read (a page of events, the snapshot) before it fails. Default 30000. */
  readonly recoveryEventTimeoutMs?: number;
  /** Events per replay read. Default 4096. */
  readonly replayPageSize?: number;
  /** Wall clock for processed-id ages and snapshot times (tests inject one). Default `Date.now`. */
  readonly clock?: () => number;
  /**
   * Producers whose delivery marks are kept (default 10000); the one heard
   * from longest ago is forgotten first (its next batch is still never
   * applied below what it saw confirmed).
   */
  readonly maxProducers?: number;
}

/** What `GenServer.getState` shows of an event-sourced server. */
export interface EventSourcedState<S> {
  readonly id: string;
  /** The user state. */
  readonly state: S;
  /** The sequence number of the last journal record applied (events, and one record per delivered batch). */
  readonly seq: number;
}

/**
 * The exit reason of a server whose write failed: it never runs on state it
 * could not store. `code` is the error's (`TROUPE_ERR_SEQ_CONFLICT`: another
 * writer of the same id won; `TROUPE_ERR_SERIALIZE`: an event or reply that
 * cannot be stored; `TROUPE_ERR_STORE`: the store failed, the write may or
 * may not have happened). Its supervisor restarts it, and it replays.
 */
export interface PersistFailed {
  readonly persist_failed: { readonly id: string; readonly code: string; readonly message: string };
}
