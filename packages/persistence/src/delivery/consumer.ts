import type { ServerContext } from '@troupe/actor-core';
import type { DeliveryMarks } from './marks.js';
import { planDelivery } from './marks.js';
import { confirmedEnvelope, parseDeliver, type DeliverEnvelope } from './protocol.js';

/** The journal record version (and snapshot version) of delivery marks: user versions start at 1. */
export const MARK_VERSION = 0;
export const DEFAULT_MAX_PRODUCERS = 10_000;

/**
 * Applies the new part of a batch: `d.m.slice(skip)`, numbered from
 * `d.f + skip`; calls `confirm(hwm)` once it is stored and resolves to the
 * GenServer result (a failed write: a stop).
 */
export type ApplyBatch = (d: DeliverEnvelope, skip: number, confirm: (hwm: number) => void) => unknown;

/**
 * The consumer half shared by both durable behaviours: checks the envelope
 * (a peer may send anything: a bad one is logged and dropped), answers
 * duplicates and gaps at once without touching the state, and hands the
 * rest to `apply`. `w` is the server state returned when nothing is written.
 */
export function consumeDelivery<W>(msg: unknown, id: string, marks: DeliveryMarks, ctx: ServerContext, apply: ApplyBatch | undefined, w: W): unknown {
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
  return apply(d, plan.skip, (hwm) => ctx.send(d.r, confirmedEnvelope(d.p, hwm, false)));
}
