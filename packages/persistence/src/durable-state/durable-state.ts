import type { CallResult, ExitReason, GenServer, IdleTimeout, InitResult, ReplyTo, ServerContext } from '@troupe/actor-core';
import { RecoveryTimeoutError } from '../errors.js';
import type { DurableStateStore } from '../store/durable-state-store.js';
import { ProcessedIds } from '../internal/processed-ids.js';
import { recoveryPermits, within } from '../internal/recovery-limiter.js';
import { callResult, isThenable, noReplyResult, persistFailed } from '../internal/outcome.js';
import { DeliveryMarks } from '../delivery/marks.js';
import { consumeDelivery, DEFAULT_MAX_PRODUCERS } from '../delivery/consumer.js';
import { looksLikeDeliver } from '../delivery/protocol.js';
import type { DurableStateBehaviour, DurableStateOptions, DurableStateServerState, StateCommandEffect, StateEffect } from './types.js';

const RECOVER = 'troupe:recover';
const DAY_MS = 24 * 3600 * 1000;

/**
 * The stored row: the user state and, when commands carry message ids, the
 * ids remembered with their replies — in one value, so both change in the
 * same compare-and-set write.
 */
interface Row {
  s: unknown;
  p?: [string, unknown, number][];
  /** Delivery marks: [producer id, high-water mark]. */
  d?: [string, number][];
}

class Running<S> implements DurableStateServerState<S> {
  revision = 0;
  constructor(
    readonly id: string,
    public state: S,
    readonly processed: ProcessedIds,
    readonly marks: DeliveryMarks,
  ) {}
}

/**
 * A durable-state GenServer (start it with `GenServer.start / startLink`).
 * Recovery reads the stored state (under the node's recovery permits)
 * before the first message. A change is written with the revision it was
 * read at; the reply goes out after the write; a stale revision (another
 * writer won) or any failed write stops the server with `PersistFailed`.
 */
export function durableState<S, Cmd, Reply, Cast = never, Info = never, Args = string, Msg = never>(
  behaviour: DurableStateBehaviour<S, Cmd, Reply, Cast, Info, Args, Msg>,
  options: DurableStateOptions,
): GenServer<DurableStateServerState<S>, Cmd, Cast, Reply, Info, Args, typeof RECOVER> {
  return new DurableStateServer(behaviour, options) as unknown as GenServer<DurableStateServerState<S>, Cmd, Cast, Reply, Info, Args, typeof RECOVER>;
}

type AnyEffect = StateEffect<unknown, unknown> & { reply?: unknown };

class DurableStateServer<S, Cmd, Reply, Cast, Info, Args, Msg> {
  readonly name: string | undefined;
  private readonly store: DurableStateStore;
  private readonly version: number;
  private readonly clock: () => number;

  constructor(
    private readonly b: DurableStateBehaviour<S, Cmd, Reply, Cast, Info, Args, Msg>,
    private readonly o: DurableStateOptions,
  ) {
    this.name = b.name;
    this.store = o.states;
    this.version = b.stateVersion ?? 1;
    this.clock = o.clock ?? Date.now;
  }

  init(args: Args): InitResult<Running<S>, Info, typeof RECOVER> {
    const processed = new ProcessedIds(this.o.processedIds?.count ?? 1000, this.o.processedIds?.maxAgeMs ?? DAY_MS, this.clock);
    const marks = new DeliveryMarks(this.o.maxProducers ?? DEFAULT_MAX_PRODUCERS);
    return { ok: new Running(this.b.persistenceId(args), this.b.initialState(args), processed, marks), continue: RECOVER };
  }

  async handleContinue(_c: typeof RECOVER, w: Running<S>, ctx: ServerContext): Promise<{ noreply: Running<S> }> {
    const permits = recoveryPermits(ctx.node);
    await permits.acquire();
    try {
      const timeoutMs = this.o.recoveryTimeoutMs ?? 30_000;
      const stored = await within(this.store.get(w.id), timeoutMs, () => new RecoveryTimeoutError(w.id, timeoutMs));
      if (stored !== undefined) {
        const row = stored.state as Row;
        w.state = stored.version === this.version || this.b.upgradeState === undefined ? (row.s as S) : this.b.upgradeState(row.s, stored.version);
        w.revision = stored.revision;
        if (row.p !== undefined) w.processed.restore(row.p);
        if (row.d !== undefined) w.marks.restore(row.d);
      }
    } finally {
      permits.release();
    }
    this.b.onRecovered?.(w.state, ctx);
    return { noreply: w };
  }

  handleCall(cmd: Cmd, _from: ReplyTo<Reply>, w: Running<S>, ctx: ServerContext): unknown {
    const mid = this.b.messageId?.(cmd);
    if (mid !== undefined) {
      const hit = w.processed.lookup(mid);
      if (hit !== undefined) return { reply: hit.reply as Reply, state: w } satisfies CallResult<Running<S>, Reply>;
    }
    const r = this.b.handleCommand(cmd, w.state, ctx) as AnyEffect | Promise<AnyEffect>;
    return isThenable(r) ? r.then((eff) => this.persist(w, eff, mid, true)) : this.persist(w, r as StateCommandEffect<unknown, unknown>, mid, true);
  }

  handleCast(cast: Cast, w: Running<S>, ctx: ServerContext): unknown {
    if (this.b.handleCast === undefined) return { stop: { undef: 'handleCast' }, state: w };
    const r = this.b.handleCast(cast, w.state, ctx) as AnyEffect | Promise<AnyEffect>;
    return isThenable(r) ? r.then((eff) => this.persist(w, eff, undefined, false)) : this.persist(w, r, undefined, false);
  }

  handleInfo(msg: Info | IdleTimeout, w: Running<S>, ctx: ServerContext): unknown {
    if (looksLikeDeliver(msg)) return this.deliver(msg, w, ctx);
    if (this.b.handleInfo === undefined) {
      ctx.node.logger.warn('durable-state server has no handleInfo; message dropped', { id: w.id });
      return { noreply: w };
    }
    const r = this.b.handleInfo(msg, w.state, ctx) as AnyEffect | Promise<AnyEffect>;
    return isThenable(r) ? r.then((eff) => this.persist(w, eff, undefined, false)) : this.persist(w, r, undefined, false);
  }

  terminate(reason: ExitReason, w: Running<S>, ctx: ServerContext): unknown {
    return this.b.terminate?.(reason, w.state, ctx);
  }

  /**
   * A batch from a `ReliableProducer`: the new messages are handled in
   * order, then the state and the producer's new mark are written as one
   * row (compare-and-set) and confirmed once stored.
   */
  private deliver(msg: unknown, w: Running<S>, ctx: ServerContext): unknown {
    const h = this.b.handleDelivery;
    return consumeDelivery<Running<S>, { readonly state?: S }>(msg, w.id, w.marks, ctx, h === undefined ? undefined : () => {
      let next = w.state;
      return {
        handle: (m, meta) => h(m as Msg, next, meta, ctx),
        take: (eff) => {
          if ('state' in eff && eff.state !== undefined) next = eff.state;
        },
        write: (producer, hwm, stored) => {
          const marks = w.marks.entries().filter(([p]) => p !== producer);
          marks.push([producer, hwm]);
          const list = w.processed.entries();
          const row: Row = list.length > 0 ? { s: next, p: list, d: marks } : { s: next, d: marks };
          return this.store.upsert(w.id, w.revision, row, this.version).then(
            (revision) => {
              w.revision = revision;
              w.state = next;
              stored();
              return { noreply: w };
            },
            (e: unknown) => ({ stop: persistFailed(w.id, e), state: w }),
          );
        },
      };
    }, w);
  }

  /** Writes the new state (with the processed ids) at the read revision, then adopts it and answers. */
  private persist(w: Running<S>, eff: AnyEffect, mid: string | undefined, isCall: boolean): unknown {
    const finish = (): unknown => (isCall ? callResult(eff, eff.reply, w) : noReplyResult(eff, w));
    const changed = 'state' in eff && eff.state !== undefined;
    if (!changed && mid === undefined) return finish();
    const next = (changed ? eff.state : w.state) as S;
    if (mid !== undefined) w.processed.add(mid, eff.reply);
    const list = w.processed.entries();
    const row: Row = list.length > 0 ? { s: next, p: list } : { s: next };
    if (w.marks.size > 0) row.d = w.marks.entries();
    return this.store.upsert(w.id, w.revision, row, this.version).then(
      (revision) => {
        w.revision = revision;
        w.state = next;
        return finish();
      },
      (e: unknown) => ({ stop: persistFailed(w.id, e), state: w }),
    );
  }
}
