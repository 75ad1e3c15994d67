import { Pid } from '@troupe/actor-core';

/**
 * The wire form of reliable delivery: plain data, so it crosses the mesh as
 * any message. A producer sends a *batch* (`f` is the sequence number of the
 * first of `m`; the others follow without gaps); the consumer answers with
 * its cumulative high-water mark for that producer — one confirmation covers
 * every message up to it (Akka's `Request(confirmedSeqNr)`).
 */
export const DELIVER = 'troupe:deliver';
export const CONFIRMED = 'troupe:confirmed';

/** Messages per batch a consumer accepts (a producer never sends more than its window). */
export const MAX_BATCH = 10_000;
/** Longest producer id a consumer keeps a mark for. */
export const MAX_PRODUCER_ID = 256;

export interface DeliverEnvelope {
  readonly [DELIVER]: 1;
  /** Producer id. */
  readonly p: string;
  /** Sequence number of `m[0]`. */
  readonly f: number;
  readonly m: readonly unknown[];
  /** Everything up to `c` the producer already saw confirmed (the consumer's mark is at least this). */
  readonly c: number;
  /** Where the confirmation goes. */
  readonly r: Pid;
}

export interface ConfirmedEnvelope {
  readonly [CONFIRMED]: 1;
  readonly p: string;
  /** Every message up to `s` is applied and stored. */
  readonly s: number;
  /** true: the batch did not start at `s + 1`; nothing of it was applied: resend from `s + 1`. */
  readonly g: boolean;
}

export function deliverEnvelope(p: string, f: number, m: readonly unknown[], c: number, r: Pid): DeliverEnvelope {
  return { [DELIVER]: 1, p, f, m, c, r };
}

export function confirmedEnvelope(p: string, s: number, g: boolean): ConfirmedEnvelope {
  return { [CONFIRMED]: 1, p, s, g };
}

export function looksLikeDeliver(msg: unknown): boolean {
  return typeof msg === 'object' && msg !== null && DELIVER in msg;
}

const isSeq = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/** The envelope if `msg` is a well-formed one, else a reason (a peer may send anything). */
export function parseDeliver(msg: unknown): DeliverEnvelope | string {
  const d = msg as Partial<DeliverEnvelope>;
  if (typeof d.p !== 'string' || d.p.length === 0 || d.p.length > MAX_PRODUCER_ID) return 'producer id must be a non-empty string of at most 256 characters';
  if (!isSeq(d.f) || d.f < 1) return 'first sequence number must be an integer >= 1';
  if (!Array.isArray(d.m) || d.m.length === 0 || d.m.length > MAX_BATCH) return `batch must hold 1..${MAX_BATCH} messages`;
  if (!isSeq(d.c)) return 'confirmed sequence number must be an integer >= 0';
  if (!(d.r instanceof Pid)) return 'reply-to must be a pid';
  return d as DeliverEnvelope;
}

export function parseConfirmed(msg: unknown): ConfirmedEnvelope | undefined {
  if (typeof msg !== 'object' || msg === null || !(CONFIRMED in msg)) return undefined;
  const c = msg as Partial<ConfirmedEnvelope>;
  if (typeof c.p !== 'string' || !isSeq(c.s) || typeof c.g !== 'boolean') return undefined;
  return c as ConfirmedEnvelope;
}
