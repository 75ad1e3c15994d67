import type { Origin } from '../start-result.js';
import { ExitedError } from '../errors.js';
import { Proc, Status } from './process.js';

/**
 * The process an origin stands for: null for code outside any process (a
 * Node), undefined for a process that has exited — whose operations must
 * then have no effect (OTP runs no code after an exit).
 */
export function originProc(origin: Origin): Proc | null | undefined {
  if (origin instanceof Proc) return origin.status === Status.Dead ? undefined : origin;
  if (!('self' in origin)) return null;
  return origin.node.lookup(origin.self) ?? undefined;
}

/** The rejection of a call made from a process that has exited. */
export function exitedCall(origin: Origin): Promise<never> {
  return Promise.reject(new ExitedError((origin as { self: Proc['self'] }).self));
}
