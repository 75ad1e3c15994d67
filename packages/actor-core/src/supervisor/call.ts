import { nodeOf, type Origin } from '../start-result.js';
import type { Dest } from '../types.js';
import type { Node } from '../node.js';
import { CallExitError } from '../errors.js';
import { exitedCall, originProc } from '../internal/origin.js';
import { ProtocolRequest } from '../internal/calls.js';

/**
 * A supervisor request through the node's one call path, as a
 * `ProtocolRequest` (a user request with the same keys is only data). Supervisor calls
 * wait forever by default, as in OTP (a terminate can legitimately take
 * as long as a child's `infinity` shutdown).
 */
export function supCall<R>(origin: Origin, sup: Dest, req: unknown, timeoutMs = Infinity): Promise<R> {
  const caller = originProc(origin);
  if (caller === undefined) return exitedCall(origin);
  return nodeOf(origin).calls.call(caller, sup, new ProtocolRequest(req), timeoutMs) as Promise<R>;
}

/**
 * Asks a supervisor to stop with `reason` and waits until it has exited:
 * it exits without replying, so the call fails with exactly that reason.
 */
export async function stopSup(origin: Origin, sup: Dest, reason: unknown, timeoutMs = Infinity): Promise<void> {
  try {
    await supCall(origin, sup, { $sup: 'stop', $dsup: 'stop', reason }, timeoutMs);
  } catch (e) {
    if (e instanceof CallExitError && sameReason(e.reason, reason)) return;
    throw e;
  }
}

function sameReason(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  try {
    return JSON.stringify(a) === JSON.stringify(b);
  } catch {
    return false;
  }
}
