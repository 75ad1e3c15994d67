import { TroupeError, type EventTimeout, type ExitReason } from '@troupe/actor-core';
import type { PersistFailed } from '../event-sourced/types.js';

export function isThenable<T>(x: T | Promise<T>): x is Promise<T> {
  return x !== null && typeof x === 'object' && typeof (x as { then?: unknown }).then === 'function';
}

/** The exit reason for a write that failed. */
export function persistFailed(id: string, e: unknown): PersistFailed {
  const code = e instanceof TroupeError ? e.code : 'TROUPE_ERR_STORE';
  return { persist_failed: { id, code, message: e instanceof Error ? e.message : String(e) } };
}

interface Tail {
  readonly stop?: ExitReason;
  readonly timeout?: number | EventTimeout<unknown>;
}

/** A GenServer call result from an effect that is done: stop after the reply, or reply (with its timeout). */
export function callResult<W>(tail: Tail, reply: unknown, w: W): { reply: unknown; state: W; stop?: ExitReason; timeout?: number | EventTimeout<unknown> } {
  if (tail.stop !== undefined) return { stop: tail.stop, reply, state: w };
  return tail.timeout === undefined ? { reply, state: w } : { reply, state: w, timeout: tail.timeout };
}

/** The same for casts and infos. */
export function noReplyResult<W>(tail: Tail, w: W): { noreply: W; timeout?: number | EventTimeout<unknown> } | { stop: ExitReason; state: W } {
  if (tail.stop !== undefined) return { stop: tail.stop, state: w };
  return tail.timeout === undefined ? { noreply: w } : { noreply: w, timeout: tail.timeout };
}
