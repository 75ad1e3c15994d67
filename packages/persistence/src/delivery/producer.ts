import { randomUUID } from 'node:crypto';
import { BadArgError, Pid, isDownMessage, nodeOf, type Node, type Origin, type ProcessContext, type Ref, type ViaName } from '@troupe/actor-core';
import { DeliveryBufferFullError, ProducerStoppedError, StoreError } from '../errors.js';
import { encode } from '../serialization/codec.js';
import type { EventToWrite, Journal } from '../store/journal.js';
import { deliverEnvelope, parseConfirmed, MAX_PRODUCER_ID } from './protocol.js';

/**
 * Where a producer's messages go when the target can move: anything that
 * says where it is now. `@troupe/registry-crdt`'s `ChildRef` is one (a
 * DistributedSupervisor child by id); persistence does not depend on it.
 */
export interface DeliveryLocator {
  /** The target's pid now, or undefined while it has none (restarting, not found). */
  whereis(): Pid | undefined;
  /** Calls `onChange` whenever `whereis` may answer differently; returns the unsubscribe. */
  watch?(onChange: () => void): () => void;
}

/** A pid, a local name, a `{ via, name }` (resolved at each attempt) or a locator. */
export type DeliveryTarget = Pid | string | ViaName | DeliveryLocator;

export interface ReliableProducerOptions {
  /**
   * Names the producer at the consumer (its high-water mark is kept per id).
   * With an `outbox` it is used as is and must stay the same across
   * restarts (that is how a restarted producer resumes its numbering);
   * without one a random suffix is added per start, since a new start
   * numbers from 1 again. At most 200 characters.
   */
  readonly producerId: string;
  readonly target: DeliveryTarget;
  /** Messages sent and not yet confirmed, at most (default 50, as Akka). */
  readonly window?: number;
  /** Messages held (stored, in flight or waiting for the window) at most; beyond, `send` rejects DeliveryBufferFullError. Default 10000. */
  readonly maxBuffered?: number;
  /** First resend after this long without a confirmation (default 1000 ms), doubling up to `resendMaxMs` (default 30000). */
  readonly resendMinMs?: number;
  readonly resendMaxMs?: number;
  /**
   * A journal to keep unconfirmed messages in (Akka's durable producer
   * queue): a message is stored before it is sent, deleted once confirmed,
   * and a producer started again with the same id resends what is left.
   */
  readonly outbox?: Journal;
}

export interface ProducerStats {
  readonly producerId: string;
  /** The highest sequence number confirmed by the consumer. */
  readonly confirmed: number;
  /** The next sequence number `send` assigns. */
  readonly nextSeq: number;
  /** Sent to the current target and not yet confirmed. */
  readonly inFlight: number;
  /** Held in all (in flight, waiting for the window or for the outbox). */
  readonly buffered: number;
  /** Messages resent (after a timeout, a gap, a new target or a reconnect). */
  readonly resent: number;
  /** The pid messages go to now, if resolved. */
  readonly target: Pid | undefined;
}

type Settle = [resolve: (seq: number) => void, reject: (e: unknown) => void];

interface Entry {
  readonly seq: number;
  readonly msg: unknown;
  onStored?: Settle;
  onConfirmed?: Settle;
}

const PUMP = 'troupe:producer:pump';
const RESEND = 'troupe:producer:resend';
const RETARGET = 'troupe:producer:retarget';
const STOP = 'troupe:producer:stop';
const PAGE = 4096;

/**
 * At-least-once delivery to a durable server (an `eventSourced` or
 * `durableState` behaviour with `handleDelivery`), wherever it runs:
 *
 * - each message gets the next sequence number of this producer and is sent
 *   in order, in batches, at most `window` unconfirmed at a time; `send`
 *   resolves once the consumer confirmed it (applied and stored);
 * - the consumer confirms its cumulative high-water mark; one confirmation
 *   covers every message up to it;
 * - without a confirmation everything unconfirmed is resent after
 *   `resendMinMs`, then after twice as long, up to `resendMaxMs`; at once
 *   when the target's pid changes (it moved or restarted: the locator's
 *   watch, or a DOWN of the old pid), when a node comes up (a reconnect), and
 *   when the consumer reports a gap;
 * - the target is resolved again at each attempt, so a moving consumer is
 *   followed.
 *
 * The consumer applies a message only if its number is the next one after
 * its stored mark, so resends are never applied twice and never out of order.
 */
export class ReliableProducer<Msg = unknown> {
  readonly producerId: string;
  readonly pid: Pid;
  private readonly window: number;
  private readonly maxBuffered: number;
  private readonly minMs: number;
  private readonly maxMs: number;
  private readonly outbox: Journal | undefined;
  private readonly outboxId: string;
  /** Unconfirmed entries, oldest first, from index `head`. */
  private buf: Entry[] = [];
  private head = 0;
  private confirmed: number;
  private nextSeq: number;
  private storedUpTo: number;
  private sentUpTo: number;
  private current: Pid | undefined;
  private monitorRef: Ref | undefined;
  private deadPid: Pid | undefined;
  private backoff: number;
  private timer: Ref | undefined;
  private progressAt = 0;
  private gapAt = -1;
  private pumpQueued = false;
  private storing: Promise<void> | undefined;
  private pruning = false;
  private prunedTo: number;
  private resent = 0;
  private stopped: Error | undefined;
  private unwatch: (() => void) | undefined;

  private constructor(
    private readonly node: Node,
    private readonly target: DeliveryTarget,
    opts: ReliableProducerOptions,
    producerId: string,
    recovered: { confirmed: number; entries: Entry[] },
  ) {
    this.producerId = producerId;
    this.window = opts.window ?? 50;
    this.maxBuffered = opts.maxBuffered ?? 10_000;
    this.minMs = opts.resendMinMs ?? 1000;
    this.maxMs = opts.resendMaxMs ?? 30_000;
    this.backoff = this.minMs;
    this.outbox = opts.outbox;
    this.outboxId = `troupe:outbox:${producerId}`;
    this.confirmed = this.prunedTo = this.sentUpTo = recovered.confirmed;
    this.buf = recovered.entries;
    this.storedUpTo = recovered.confirmed + recovered.entries.length;
    this.nextSeq = this.storedUpTo + 1;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    this.pid = node.spawn<unknown, undefined>({
      name: 'troupe:reliable-producer',
      init(ctx) {
        ctx.signal.addEventListener('abort', () => self.fail(new ProducerStoppedError(self.producerId, 'its process ended')));
        ctx.node.dist.monitorNodes(ctx.self, true);
        return undefined;
      },
      handle: (m, ctx) => this.handle(m, ctx),
    });
    if (isLocator(target) && target.watch !== undefined) this.unwatch = target.watch(() => this.node.send(this.pid, RETARGET));
    if (this.buf.length > 0) this.schedulePump();
  }

  /** Starts a producer on `origin`'s node; with an outbox, resumes what the outbox holds. */
  static async start<Msg = unknown>(origin: Origin, opts: ReliableProducerOptions): Promise<ReliableProducer<Msg>> {
    const node = nodeOf(origin);
    validate(opts);
    const id = opts.outbox === undefined ? `${opts.producerId}/${randomUUID()}` : opts.producerId;
    let recovered = { confirmed: 0, entries: [] as Entry[] };
    if (opts.outbox !== undefined) recovered = await readOutbox(opts.outbox, `troupe:outbox:${id}`);
    return new ReliableProducer<Msg>(node, opts.target, opts, id, recovered);
  }

  /**
   * Queues `msg` and resolves with its sequence number once it is held:
   * at once without an outbox, after the outbox write with one (from then on
   * a producer crash does not lose it). Rejects DeliveryBufferFullError
   * (nothing queued) beyond `maxBuffered`, SerializationError with an outbox
   * for a value it cannot store.
   */
  enqueue(msg: Msg): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const e = this.add(msg);
      if (this.outbox === undefined) resolve(e.seq);
      else e.onStored = [resolve, reject];
    });
  }

  /** Queues `msg` and resolves with its sequence number once the consumer confirmed it (applied and stored). */
  send(msg: Msg): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.add(msg).onConfirmed = [resolve, reject];
    });
  }

  stats(): ProducerStats {
    return {
      producerId: this.producerId,
      confirmed: this.confirmed,
      nextSeq: this.nextSeq,
      inFlight: this.sentUpTo - this.confirmed,
      buffered: this.nextSeq - 1 - this.confirmed,
      resent: this.resent,
      target: this.current,
    };
  }

  /**
   * Stops the producer: what is not confirmed rejects ProducerStoppedError
   * (with an outbox it stays there for the next start with this id).
   */
  async stop(): Promise<void> {
    if (this.stopped !== undefined) return;
    const writing = this.storing;
    this.fail(new ProducerStoppedError(this.producerId, 'stopped'));
    this.node.send(this.pid, STOP);
    await writing?.catch(() => undefined);
  }

  // ---- inside -------------------------------------------------------------------------------------

  private add(msg: unknown): Entry {
    if (this.stopped !== undefined) throw this.stopped;
    if (this.nextSeq - 1 - this.confirmed >= this.maxBuffered) throw new DeliveryBufferFullError(this.producerId, this.maxBuffered);
    // A value the outbox cannot store fails here, before it takes a number (the outbox numbering has no gaps).
    if (this.outbox !== undefined) encode(msg);
    const e: Entry = { seq: this.nextSeq++, msg };
    this.buf.push(e);
    if (this.outbox === undefined) {
      this.storedUpTo = e.seq;
      this.schedulePump();
    } else if (this.storing === undefined) this.storing = this.store();
    return e;
  }

  /**
   * Pumps once the current turn is over (everything sent in it goes in one
   * batch): right there when the target is the pid already monitored (no
   * process hop on the hot path), else through the producer's process,
   * which can monitor a new pid.
   */
  private schedulePump(): void {
    if (this.pumpQueued || this.stopped !== undefined) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      if (this.stopped !== undefined) return;
      const pid = this.resolveTarget();
      if (pid !== undefined && this.current !== undefined && pid.equals(this.current)) this.sendWindow(pid);
      else this.node.send(this.pid, PUMP);
    });
  }

  /** Writes what is not stored yet to the outbox, one append at a time (in order), then pumps. */
  private async store(): Promise<void> {
    await Promise.resolve(); // everything enqueued in this turn goes in one append
    while (this.stopped === undefined && this.storedUpTo < this.nextSeq - 1) {
      const from = this.storedUpTo;
      const to = this.nextSeq - 1;
      const events: EventToWrite[] = [];
      for (let s = from + 1; s <= to; s++) events.push({ event: this.entry(s)!.msg, version: 1 });
      try {
        await this.outbox!.append({ id: this.outboxId, expectedSeq: from, events });
      } catch (e) {
        this.fail(new ProducerStoppedError(this.producerId, `outbox write failed: ${e instanceof Error ? e.message : String(e)}`));
        break;
      }
      this.storedUpTo = to;
      for (let s = from + 1; s <= to; s++) {
        const en = this.entry(s);
        if (en?.onStored !== undefined) {
          en.onStored[0](s);
          en.onStored = undefined;
        }
      }
      this.schedulePump();
    }
    this.storing = undefined;
  }

  private entry(seq: number): Entry | undefined {
    return this.buf[this.head + (seq - this.confirmed - 1)];
  }

  private handle(m: unknown, ctx: ProcessContext): void {
    if (m === PUMP) {
      this.pump(ctx);
      return;
    }
    const c = parseConfirmed(m);
    if (c !== undefined) {
      if (c.p === this.producerId) this.onConfirmed(c.s, c.g, ctx);
      return;
    }
    if (m === RESEND) {
      this.timer = undefined;
      this.onTimer(ctx);
      return;
    }
    if (m === RETARGET) {
      this.pump(ctx);
      return;
    }
    if (m === STOP) {
      ctx.exit('normal');
      return;
    }
    if (isDownMessage(m)) {
      if (this.monitorRef !== undefined && m.ref.equals(this.monitorRef)) {
        // The consumer we were sending to is gone (or its node is): wait for its next pid (a watch
        // change, a nodeup or the timer) rather than re-monitor it into another DOWN at once.
        this.deadPid = this.current;
        this.current = this.monitorRef = undefined;
        this.pump(ctx);
      }
      return;
    }
    if (typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'nodeup') {
      // A reconnect: whatever was in flight may have been lost with the old connection. A pid
      // whose DOWN said only `noconnection` may be alive on the node that is back: try it again.
      if (this.deadPid !== undefined && this.deadPid.node === (m as { node?: unknown }).node) this.deadPid = undefined;
      this.resendAll();
      this.pump(ctx);
    }
  }

  private resolveTarget(): Pid | undefined {
    const t = this.target;
    let pid: Pid | undefined;
    if (t instanceof Pid) pid = t;
    else if (typeof t === 'string') pid = this.node.whereis(t);
    else if ('via' in t) pid = t.via.whereisName(t.name);
    else pid = t.whereis();
    return pid !== undefined && this.deadPid !== undefined && pid.equals(this.deadPid) ? undefined : pid;
  }

  /** Sends what the window allows to the target's current pid (a new pid gets everything unconfirmed). */
  private pump(ctx: ProcessContext): void {
    if (this.stopped !== undefined) return;
    const pid = this.resolveTarget();
    if (pid === undefined) {
      this.armTimer();
      return;
    }
    if (this.current === undefined || !pid.equals(this.current)) {
      if (this.monitorRef !== undefined) ctx.demonitor(this.monitorRef, { flush: true });
      this.current = pid;
      this.monitorRef = ctx.monitor(pid);
      this.resendAll();
    }
    this.sendWindow(pid);
  }

  /** Sends the part of the window not sent yet to `pid` (the monitored current target) as one batch. */
  private sendWindow(pid: Pid): void {
    const limit = Math.min(this.storedUpTo, this.confirmed + this.window);
    if (this.sentUpTo < limit) {
      const from = this.sentUpTo + 1;
      const msgs = new Array<unknown>(limit - this.sentUpTo);
      for (let s = from; s <= limit; s++) msgs[s - from] = this.entry(s)!.msg;
      this.node.send(pid, deliverEnvelope(this.producerId, from, msgs, this.confirmed, this.pid));
      this.sentUpTo = limit;
    }
    this.armTimer();
  }

  /** Marks everything unconfirmed as not sent: the next pump sends it again. */
  private resendAll(): void {
    if (this.sentUpTo > this.confirmed) this.resent += this.sentUpTo - this.confirmed;
    this.sentUpTo = this.confirmed;
  }

  private onConfirmed(s: number, gap: boolean, ctx: ProcessContext): void {
    // Nothing beyond what exists can be confirmed (a consumer's mark from another producer using this id).
    const upTo = Math.min(s, this.storedUpTo);
    if (upTo > this.confirmed) {
      for (let q = this.confirmed + 1; q <= upTo; q++) {
        const en = this.buf[this.head++]!;
        en.onConfirmed?.[0](q);
      }
      this.confirmed = upTo;
      if (this.sentUpTo < upTo) this.sentUpTo = upTo;
      this.backoff = this.minMs;
      if (this.head > 1024 && this.head * 2 > this.buf.length) {
        this.buf = this.buf.slice(this.head);
        this.head = 0;
      }
      this.prune();
    }
    // A gap: the consumer saw a batch after messages it never got. Resend once per reported mark
    // (several batches in flight each report the same gap); the timer covers a lost resend.
    if (gap && s !== this.gapAt) {
      this.gapAt = s;
      this.resendAll();
    }
    this.pump(ctx);
  }

  private onTimer(ctx: ProcessContext): void {
    if (this.confirmed > this.progressAt) this.backoff = this.minMs;
    else if (this.sentUpTo > this.confirmed || this.current === undefined) {
      this.resendAll();
      this.backoff = Math.min(this.backoff * 2, this.maxMs);
    }
    this.pump(ctx);
  }

  private armTimer(): void {
    if (this.timer !== undefined) return;
    const waiting = this.sentUpTo > this.confirmed || (this.current === undefined && this.storedUpTo > this.confirmed);
    if (!waiting) return;
    this.progressAt = this.confirmed;
    this.timer = this.node.sendAfter(this.backoff, this.pid, RESEND);
  }

  /** Deletes confirmed messages from the outbox, one delete at a time. */
  private prune(): void {
    if (this.outbox === undefined || this.pruning || this.prunedTo >= this.confirmed) return;
    this.pruning = true;
    const to = this.confirmed;
    this.outbox.deleteTo(this.outboxId, to).then(
      () => {
        this.prunedTo = to;
        this.pruning = false;
        this.prune();
      },
      (e: unknown) => {
        // Confirmed messages left in the outbox are resent after a restart and confirmed again as duplicates.
        this.pruning = false;
        this.node.logger.warn('reliable producer: outbox delete failed', { producer: this.producerId, error: e instanceof Error ? e.message : String(e) });
      },
    );
  }

  private fail(e: Error): void {
    if (this.stopped !== undefined) return;
    this.stopped = e;
    this.unwatch?.();
    for (let i = this.head; i < this.buf.length; i++) {
      const en = this.buf[i]!;
      en.onStored?.[1](e);
      en.onConfirmed?.[1](e);
    }
    this.buf = [];
    this.head = 0;
  }
}

function isLocator(t: DeliveryTarget): t is DeliveryLocator {
  return typeof t === 'object' && t !== null && !(t instanceof Pid) && typeof (t as DeliveryLocator).whereis === 'function';
}

function validate(o: ReliableProducerOptions): void {
  if (typeof o?.producerId !== 'string' || o.producerId.length === 0 || o.producerId.length > MAX_PRODUCER_ID - 56) {
    throw new BadArgError('ReliableProducer: producerId must be a non-empty string of at most 200 characters');
  }
  const t = o.target as unknown;
  const okTarget = t instanceof Pid || typeof t === 'string' || (typeof t === 'object' && t !== null && ('via' in t || typeof (t as DeliveryLocator).whereis === 'function'));
  if (!okTarget) throw new BadArgError('ReliableProducer: target must be a pid, a local name, { via, name } or a locator with whereis()');
  const int = (v: number | undefined, name: string, min: number): void => {
    if (v !== undefined && (!Number.isInteger(v) || v < min)) throw new BadArgError(`ReliableProducer: ${name} must be an integer >= ${min}`);
  };
  int(o.window, 'window', 1);
  int(o.maxBuffered, 'maxBuffered', 1);
  int(o.resendMinMs, 'resendMinMs', 1);
  int(o.resendMaxMs, 'resendMaxMs', 1);
  if (o.window !== undefined && o.window > 10_000) throw new BadArgError('ReliableProducer: window must be at most 10000 (a consumer refuses larger batches)');
}

/** What a previous producer with this id left: its messages still in the outbox are unconfirmed, numbered on from the highest. */
async function readOutbox(j: Journal, id: string): Promise<{ confirmed: number; entries: Entry[] }> {
  const highest = await j.highestSeq(id);
  const entries: Entry[] = [];
  let from = 1;
  for (;;) {
    const page = await j.replay(id, from, highest, PAGE);
    for (const e of page) entries.push({ seq: e.seq, msg: e.event });
    if (page.length < PAGE) break;
    from = page[page.length - 1]!.seq + 1;
  }
  // Confirmed messages are deleted from the front, so what is left runs without gaps up to the highest.
  const confirmed = entries.length > 0 ? entries[0]!.seq - 1 : highest;
  for (let i = 0; i < entries.length; i++) {
    if (entries[i]!.seq !== confirmed + 1 + i) throw new StoreError(`outbox '${id}' has a gap before record ${entries[i]!.seq}: it was changed by something other than its producer`);
  }
  if (confirmed + entries.length !== highest) throw new StoreError(`outbox '${id}' ends at ${confirmed + entries.length} but its highest sequence number is ${highest}`);
  return { confirmed, entries };
}
