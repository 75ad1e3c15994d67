import { type GenServer, type IdleTimeout, type InitResult, type ServerContext, type ExitReason, type CallResult, type CastResult, type ReplyTo } from '@troupe/actor-core';
import { RecoveryTimeoutError } from '../errors.js';
import type { EventToWrite, Journal } from '../store/journal.js';
import type { SnapshotStore } from '../store/snapshot-store.js';
import { ProcessedIds } from '../internal/processed-ids.js';
import { recoveryPermits, within } from '../internal/recovery-limiter.js';
import { callResult, isThenable, noReplyResult, persistFailed } from '../internal/outcome.js';
import { DeliveryMarks } from '../delivery/marks.js';
import { consumeDelivery, MARK_VERSION, DEFAULT_MAX_PRODUCERS } from '../delivery/consumer.js';
import { looksLikeDeliver } from '../delivery/protocol.js';
import type { CommandEffect, DeliveryEffect, Effect, EventSourcedBehaviour, EventSourcedOptions, EventSourcedState } from './types.js';

const RECOVER = 'troupe:recover';
const DAY_MS = 24 * 3600 * 1000;

/** The server's state as the GenServer loop holds it: the user's state and the journal position. */
class Running<S> implements EventSourcedState<S> {
  seq = 0;
  snapshotSeq = 0;
  /** Snapshot writes in order, never awaited by commands. */
  snapshotChain: Promise<void> = Promise.resolve();
  constructor(
    readonly id: string,
    public state: S,
    readonly processed: ProcessedIds,
    readonly marks: DeliveryMarks,
  ) {}
}

/**
 * A snapshot of a server that has delivery marks, stored at snapshot
 * version 0 (never a user's: versions start at 1) so it is told apart from
 * a plain one without looking at the user's data.
 */
interface MarkedSnapshot {
  v: number;
  s: unknown;
  d: [string, number][];
}

/**
 * An event-sourced GenServer: start it with `GenServer.start / startLink`
 * (or as a supervisor child) like any other, with the persistence id's args.
 *
 * `init` returns at once; the state is rebuilt before the first message
 * (latest snapshot, then the events after it), holding one of the node's
 * recovery permits (`setMaxConcurrentRecoveries`). A command's reply is sent
 * only after its events are stored; the mailbox stays closed meanwhile, so
 * later messages wait in order. A failed write stops the server with
 * `PersistFailed` (its state unchanged); a failed recovery crashes it.
 */
export function eventSourced<S, Cmd, Ev, Reply, Cast = never, Info = never, Args = string, Msg = never>(
  behaviour: EventSourcedBehaviour<S, Cmd, Ev, Reply, Cast, Info, Args, Msg>,
  options: EventSourcedOptions,
): GenServer<EventSourcedState<S>, Cmd, Cast, Reply, Info, Args, typeof RECOVER> {
  return new EventSourcedServer(behaviour, options) as unknown as GenServer<EventSourcedState<S>, Cmd, Cast, Reply, Info, Args, typeof RECOVER>;
}

type AnyEffect = Effect<unknown, unknown> & { reply?: unknown };

class EventSourcedServer<S, Cmd, Ev, Reply, Cast, Info, Args, Msg> {
  readonly name: string | undefined;
  private readonly journal: Journal;
  private readonly snapshots: SnapshotStore | undefined;
  private readonly every: number;
  private readonly keep: number;
  private readonly eventVersion: number;
  private readonly snapshotVersion: number;
  private readonly clock: () => number;
  private readonly timeoutMs: number;
  private readonly pageSize: number;

  constructor(
    private readonly b: EventSourcedBehaviour<S, Cmd, Ev, Reply, Cast, Info, Args, Msg>,
    private readonly o: EventSourcedOptions,
  ) {
    this.name = b.name;
    this.journal = o.journal;
    this.snapshots = o.snapshots;
    this.every = o.snapshotEvery ?? 0;
    this.keep = Math.max(1, o.keepSnapshots ?? 2);
    this.eventVersion = b.eventVersion ?? 1;
    this.snapshotVersion = b.snapshotVersion ?? 1;
    this.clock = o.clock ?? Date.now;
    this.timeoutMs = o.recoveryEventTimeoutMs ?? 30_000;
    this.pageSize = o.replayPageSize ?? 4096;
    if (this.every > 0 && this.snapshots === undefined) throw new RangeError('snapshotEvery needs a snapshot store (options.snapshots)');
    if (!Number.isInteger(this.eventVersion) || this.eventVersion < 1) throw new RangeError(`eventVersion must be an integer >= 1, got ${String(this.eventVersion)}`);
    if (!Number.isInteger(this.snapshotVersion) || this.snapshotVersion < 1) throw new RangeError(`snapshotVersion must be an integer >= 1, got ${String(this.snapshotVersion)}`);
  }

  init(args: Args): InitResult<Running<S>, Info, typeof RECOVER> {
    const id = this.b.persistenceId(args);
    const processed = new ProcessedIds(this.o.processedIds?.count ?? 1000, this.o.processedIds?.maxAgeMs ?? DAY_MS, this.clock);
    const marks = new DeliveryMarks(this.o.maxProducers ?? DEFAULT_MAX_PRODUCERS);
    return { ok: new Running(id, this.b.initialState(args), processed, marks), continue: RECOVER };
  }

  async handleContinue(_c: typeof RECOVER, w: Running<S>, ctx: ServerContext): Promise<CastResult<Running<S>, Info>> {
    const permits = recoveryPermits(ctx.node);
    await permits.acquire();
    try {
      await this.recover(w, ctx);
    } finally {
      permits.release();
    }
    this.b.onRecovered?.(w.state, ctx);
    return { noreply: w };
  }

  private async recover(w: Running<S>, ctx: ServerContext): Promise<void> {
    const stalled = (): Error => new RecoveryTimeoutError(w.id, this.timeoutMs);
    let state = w.state;
    if (this.snapshots !== undefined) {
      try {
        const snap = await within(this.snapshots.latest(w.id), this.timeoutMs, stalled);
        if (snap !== undefined) {
          let version = snap.version;
          let raw = snap.state;
          if (version === MARK_VERSION) {
            const m = raw as MarkedSnapshot;
            w.marks.restore(m.d);
            version = m.v;
            raw = m.s;
          }
          state = version === this.snapshotVersion || this.b.upgradeSnapshot === undefined ? (raw as S) : this.b.upgradeSnapshot(raw, version);
          w.seq = w.snapshotSeq = snap.seq;
        }
      } catch (e) {
        if (!this.o.snapshotIsOptional || e instanceof RecoveryTimeoutError) throw e;
        ctx.node.logger.warn('snapshot unreadable; replaying every event', { id: w.id, error: e instanceof Error ? e.message : String(e) });
      }
    }
    const upgrade = this.b.upgradeEvent;
    // The highest number is read before the replay: events another writer (the
    // other side of a netsplit) appends meanwhile are then in the replay, and a
    // gap left after it can only be events deleted with no snapshot after them.
    const highest = await within(this.journal.highestSeq(w.id), this.timeoutMs, stalled);
    for (;;) {
      const page = await within(this.journal.replay(w.id, w.seq + 1, Infinity, this.pageSize), this.timeoutMs, stalled);
      for (let i = 0; i < page.length; i++) {
        const e = page[i]!;
        if (e.version === MARK_VERSION) w.marks.restore([e.event]);
        else state = this.b.handleEvent(state, e.version === this.eventVersion || upgrade === undefined ? (e.event as Ev) : upgrade(e.event, e.version));
        w.seq = e.seq;
      }
      if (page.length < this.pageSize) break;
    }
    // Events deleted without a snapshot after them: the numbering still continues after the highest.
    if (highest > w.seq) {
      ctx.node.logger.warn('events missing before the highest sequence number (deleted with no snapshot after them)', { id: w.id, replayedTo: w.seq, highest });
      w.seq = highest;
    }
    w.processed.load(await within(this.journal.processed(w.id, w.processed.retention()), this.timeoutMs, stalled));
    w.state = state;
  }

  handleCall(cmd: Cmd, _from: ReplyTo<Reply>, w: Running<S>, ctx: ServerContext): CallResult<Running<S>, Reply, Info> | Promise<CallResult<Running<S>, Reply, Info>> {
    const mid = this.b.messageId?.(cmd);
    if (mid !== undefined) {
      const hit = w.processed.lookup(mid);
      if (hit !== undefined) return { reply: hit.reply as Reply, state: w };
    }
    const r = this.b.handleCommand(cmd, w.state, ctx);
    const go = (eff: CommandEffect<Ev, Reply, Info>): CallResult<Running<S>, Reply, Info> | Promise<CallResult<Running<S>, Reply, Info>> => {
      const done = this.persist(w, eff as AnyEffect, mid, ctx, true);
      return done as CallResult<Running<S>, Reply, Info> | Promise<CallResult<Running<S>, Reply, Info>>;
    };
    return isThenable(r) ? r.then(go) : go(r);
  }

  handleCast(cast: Cast, w: Running<S>, ctx: ServerContext): unknown {
    if (this.b.handleCast === undefined) return { stop: { undef: 'handleCast' }, state: w };
    const r = this.b.handleCast(cast, w.state, ctx);
    return isThenable(r) ? r.then((eff) => this.persist(w, eff as AnyEffect, undefined, ctx, false)) : this.persist(w, r as AnyEffect, undefined, ctx, false);
  }

  handleInfo(msg: Info | IdleTimeout, w: Running<S>, ctx: ServerContext): unknown {
    if (looksLikeDeliver(msg)) return this.deliver(msg, w, ctx);
    if (this.b.handleInfo === undefined) {
      ctx.node.logger.warn('event-sourced server has no handleInfo; message dropped', { id: w.id });
      return { noreply: w };
    }
    const r = this.b.handleInfo(msg, w.state, ctx);
    return isThenable(r) ? r.then((eff) => this.persist(w, eff as AnyEffect, undefined, ctx, false)) : this.persist(w, r as AnyEffect, undefined, ctx, false);
  }

  terminate(reason: ExitReason, w: Running<S>, ctx: ServerContext): unknown {
    return this.b.terminate?.(reason, w.state, ctx);
  }

  /**
   * A batch from a `ReliableProducer`: the new messages (above the
   * producer's mark) are handled in order, each on the state the previous
   * ones made; their events and the producer's new mark (a version-0
   * record) go in ONE append, so the journal never holds effects without
   * their mark or a mark without its effects. Confirmed only once stored.
   */
  private deliver(msg: unknown, w: Running<S>, ctx: ServerContext): unknown {
    const h = this.b.handleDelivery;
    return consumeDelivery<Running<S>, DeliveryEffect<Ev>>(msg, w.id, w.marks, ctx, h === undefined ? undefined : () => {
      let next = w.state;
      const toWrite: EventToWrite[] = [];
      return {
        handle: (m, meta) => h(m as Msg, next, meta, ctx),
        take: (eff) => {
          const evs = eff.events ?? [];
          for (let k = 0; k < evs.length; k++) {
            next = this.b.handleEvent(next, evs[k]!);
            toWrite.push({ event: evs[k], version: this.eventVersion });
          }
        },
        write: (producer, hwm, stored) => {
          toWrite.push({ event: [producer, hwm], version: MARK_VERSION });
          return this.journal.append({ id: w.id, expectedSeq: w.seq, events: toWrite }).then(
            () => {
              w.state = next;
              w.seq += toWrite.length;
              stored();
              if (this.every > 0 && w.seq - w.snapshotSeq >= this.every) this.snapshot(w, ctx);
              return { noreply: w };
            },
            (e: unknown) => ({ stop: persistFailed(w.id, e), state: w }),
          );
        },
      };
    }, w);
  }

  /**
   * Writes the effect's events (and the command's id and reply), then
   * applies them and answers. Nothing to write: answers at once, with no
   * Promise. The new state is folded before the write so a throwing
   * `handleEvent` fails the command before anything is stored.
   */
  private persist(w: Running<S>, eff: AnyEffect, mid: string | undefined, ctx: ServerContext, isCall: boolean): unknown {
    const events = (eff.events ?? []) as readonly Ev[];
    const finish = (): unknown => (isCall ? callResult(eff, eff.reply, w) : noReplyResult(eff, w));
    if (events.length === 0 && mid === undefined) return finish();
    let next = w.state;
    const toWrite: EventToWrite[] = new Array(events.length);
    for (let i = 0; i < events.length; i++) {
      next = this.b.handleEvent(next, events[i]!);
      toWrite[i] = { event: events[i], version: this.eventVersion };
    }
    const req = { id: w.id, expectedSeq: w.seq, events: toWrite, processed: mid === undefined ? undefined : { messageId: mid, reply: eff.reply } };
    return this.journal.append(req).then(
      () => {
        w.state = next;
        w.seq += events.length;
        if (mid !== undefined) w.processed.add(mid, eff.reply);
        if (this.every > 0 && w.seq - w.snapshotSeq >= this.every) this.snapshot(w, ctx);
        return finish();
      },
      (e: unknown) => ({ stop: persistFailed(w.id, e), state: w }),
    );
  }

  /** Saves a snapshot and applies retention, in the background: a failed snapshot costs replay time, never data. */
  private snapshot(w: Running<S>, ctx: ServerContext): void {
    const seq = (w.snapshotSeq = w.seq);
    const marked = w.marks.size > 0;
    const state: unknown = marked ? ({ v: this.snapshotVersion, s: w.state, d: w.marks.entries() } satisfies MarkedSnapshot) : w.state;
    const version = marked ? MARK_VERSION : this.snapshotVersion;
    const store = this.snapshots!;
    const keepFrom = seq - this.every * this.keep;
    const retention = w.processed.retention();
    w.snapshotChain = w.snapshotChain
      .then(() => store.save(w.id, { seq, at: this.clock(), version }, state))
      .then(() => (keepFrom > 0 ? store.deleteMatching(w.id, { maxSeq: keepFrom }) : undefined))
      .then(() => this.journal.pruneProcessed(w.id, retention))
      .catch((e: unknown) => ctx.node.logger.warn('snapshot failed', { id: w.id, seq, error: e instanceof Error ? e.message : String(e) }));
  }
}
