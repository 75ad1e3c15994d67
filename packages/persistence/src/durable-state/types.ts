import type { EventTimeout, ExitReason, IdleTimeout, ServerContext } from '@troupe/actor-core';
import type { DurableStateStore } from '../store/durable-state-store.js';
import type { DeliveryMeta, ProcessedIdRetention } from '../event-sourced/types.js';

type MaybeAsync<T> = T | Promise<T>;

/** A handler's decision: a new `state` to store (absent: nothing is written), then optionally stop or arm a timeout. */
export interface StateEffect<S, Info = never> {
  readonly state?: S;
  readonly stop?: ExitReason;
  readonly timeout?: number | EventTimeout<Info>;
}

export interface StateCommandEffect<S, Reply, Info = never> extends StateEffect<S, Info> {
  /** Sent only after the new state is stored. */
  readonly reply: Reply;
}

/**
 * A durable-state server: the whole state is stored on each change, with a
 * revision (compare-and-set). Handlers return the new state rather than
 * change the old one; it replaces the old one only once stored. `messageId`
 * makes commands idempotent as in the event-sourced server (the processed
 * ids and replies are stored in the same row, in the same write, as the state).
 * `stateVersion` (default 1) is stored with the state; `upgradeState`
 * turns an older one into today's shape on recovery. `handleDelivery`
 * takes a `ReliableProducer`'s messages: the producer's high-water mark is
 * stored in the same row as the state, so a resent duplicate is confirmed
 * without running again.
 */
export interface DurableStateBehaviour<S, Cmd, Reply, Cast = never, Info = never, Args = string, Msg = never> {
  readonly name?: string;
  persistenceId(args: Args): string;
  initialState(args: Args): S;
  handleCommand(cmd: Cmd, state: S, ctx: ServerContext): MaybeAsync<StateCommandEffect<S, Reply, Info>>;
  handleCast?(cast: Cast, state: S, ctx: ServerContext): MaybeAsync<StateEffect<S, Info>>;
  handleInfo?(msg: Info | IdleTimeout, state: S, ctx: ServerContext): MaybeAsync<StateEffect<S, Info>>;
  handleDelivery?(msg: Msg, state: S, meta: DeliveryMeta, ctx: ServerContext): MaybeAsync<{ readonly state?: S }>;
  messageId?(cmd: Cmd): string | undefined;
  onRecovered?(state: S, ctx: ServerContext): void;
  terminate?(reason: ExitReason, state: S, ctx: ServerContext): unknown;
  readonly stateVersion?: number;
  upgradeState?(state: unknown, version: number): S;
}

export interface DurableStateOptions {
  readonly states: DurableStateStore;
  readonly processedIds?: ProcessedIdRetention;
  /** ms recovery waits for the read before it fails. Default 30000. */
  readonly recoveryTimeoutMs?: number;
  readonly clock?: () => number;
  /** Producers whose delivery marks are kept (default 10000); see `EventSourcedOptions.maxProducers`. */
  readonly maxProducers?: number;
}

/** What `GenServer.getState` shows of a durable-state server. */
export interface DurableStateServerState<S> {
  readonly id: string;
  readonly state: S;
  /** The stored revision the state is at (0: never written). */
  readonly revision: number;
}
