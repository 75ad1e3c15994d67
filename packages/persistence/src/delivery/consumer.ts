import type { ServerContext } from '@troupe/actor-core';
import type { DeliveryMarks } from './marks.js';
import { planDelivery } from './marks.js';
import { confirmedEnvelope, parseDeliver } from './protocol.js';
import { inOrder } from './in-order.js';
import { isThenable } from '../internal/outcome.js';

/** The journal record version (and snapshot version) of delivery marks: user versions start at 1. */
export const MARK_VERSION = 0;
export const DEFAULT_MAX_PRODUCERS = 10_000;

/** What a durable behaviour does with the new part of a batch. */
export interface BatchApply<E> {
  /** The behaviour's `handleDelivery` on one message, on the state the earlier ones made. */
  handle(msg: unknown, meta: { producerId: string; seq: number }): E | Promise<E>;
  /** Folds one handler's effect into the batch. */
  take(eff: E): void;
  /**
   * Stores the folded batch with `producerId`'s new mark `hwm` in one write;
   * calls `stored()` once it is (before answering) and resolves to the
   * GenServer result (a failed write: a stop).
   */
  write(producerId: string, hwm: number, stored: () => void): Promise<unknown>;
}

/**
 * The consumer half shared by both durable behaviours: checks the envelope
 * (a peer may send anything: a bad one is logged and dropped), answers
 * duplicates and gaps at once without touching the state, folds the new
 * messages in order (no Promise while the handlers are synchronous), writes
 * them with the new mark and confirms once stored. `w` is the server state
 * returned when nothing is written.
 */
export function consumeDelivery<W, E>(msg: unknown, id: string, marks: DeliveryMarks, ctx: ServerContext, apply: (() => BatchApply<E>) | undefined, w: W): unknown {
  const d = parseDeliver(msg);
  if (typeof d === 'string') {
    ctx.node.logger.warn('malformed delivery dropped', { id, reason: d });
    return { noreply: w };
  }
  if (apply === undefined) {
    ctx.node.logger.warn('delivery dropped: the behaviour has no handleDelivery', { id, producer: d.p });
    return { noreply: w };
  }
  const plan = planDelivery(marks.get(d.p), d.c, d.f, d.m.length);
  if (plan.kind !== 'apply') {
    ctx.send(d.r, confirmedEnvelope(d.p, plan.known, plan.kind === 'gap'));
    return { noreply: w };
  }
  const a = apply();
  const hwm = d.f + d.m.length - 1;
  const write = (): Promise<unknown> =>
    a.write(d.p, hwm, () => {
      marks.set(d.p, hwm);
      ctx.send(d.r, confirmedEnvelope(d.p, hwm, false));
    });
  const folded = inOrder(plan.skip, d.m.length, (i) => {
    const r = a.handle(d.m[i], { producerId: d.p, seq: d.f + i });
    return isThenable(r) ? r.then((eff) => a.take(eff)) : a.take(r);
  });
  return folded === undefined ? write() : folded.then(write);
}
