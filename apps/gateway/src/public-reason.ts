/**
 * Exit reasons and errors as HTTP clients see them. A reason from another
 * node can carry that node's stack trace (file paths, code structure, the
 * versions it runs): useful in the node's own log, not for whoever sent a
 * request. Clients get the name and message; stacks stay in the logs.
 */
import type { SerializedError } from '@troupe/actor-core';

const MAX = 500;

const cut = (s: string): string => (s.length > MAX ? `${s.slice(0, MAX)}…` : s);

function isErrorReason(r: unknown): r is { error: SerializedError } {
  const e = typeof r === 'object' && r !== null && 'error' in r ? (r as { error: unknown }).error : undefined;
  return typeof e === 'object' && e !== null && typeof (e as SerializedError).message === 'string';
}

/** `Name: message` for an error reason, else compact JSON with every `stack` left out; at most 500 characters. */
export function publicReason(reason: unknown): string {
  if (typeof reason === 'string') return cut(reason);
  if (isErrorReason(reason)) return cut(`${String(reason.error.name)}: ${reason.error.message}`);
  try {
    return cut(JSON.stringify(reason, (k, v: unknown) => (k === 'stack' ? undefined : typeof v === 'bigint' ? String(v) : v)) ?? String(reason));
  } catch {
    return cut(String(reason));
  }
}

/** An error's message without anything after its first line (where a stack would start). */
export function publicMessage(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return cut(m.split('\n', 1)[0]!);
}
