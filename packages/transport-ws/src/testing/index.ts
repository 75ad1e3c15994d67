// `@troupe/transport-ws/testing`: fault injection for tests and the
// multi-process harness — a stopped peer (`freeze`) and a network partition
// (`block`). Not part of the production transport's API.
import type { WsTransport } from '../ws-transport.js';

/** This side of the connection to `name` stops reading, writing and ticking, like a SIGSTOPped process. False if not connected. */
export function freeze(t: WsTransport, name: string): boolean {
  const c = t.peers.get(name);
  if (c === undefined) return false;
  c.freeze();
  return true;
}

/** Undoes `freeze(t, name)` (SIGCONT): the connection then notices what the peer did meanwhile. */
export function unfreeze(t: WsTransport, name: string): boolean {
  const c = t.peers.get(name);
  if (c === undefined || !c.frozen) return false;
  c.unfreeze();
  return true;
}

/**
 * A partition from `t`'s side: from now on the connection to `name`, if up,
 * silently drops traffic in both directions on this side, so each side sees
 * `net_tick_timeout` (or the other's close) after the tick timeout, as in a
 * real partition; and new connections to or from `name` are refused (close
 * code 4019 `blocked`, not counted by the rate limiter) until `unblock`.
 */
export function block(t: WsTransport, name: string): void {
  t.blocked.add(name);
  const c = t.peers.get(name);
  if (c !== undefined) c.dropping = true;
  t.node.logger.info('transport-ws: peer blocked (test hook)', { peer: name, connected: c !== undefined });
}

/** Undoes `block(t, name)`; a reconnection the block paused resumes. False if `name` was not blocked. */
export function unblock(t: WsTransport, name: string): boolean {
  const had = t.blocked.delete(name);
  if (!had) return false;
  t.node.logger.info('transport-ws: peer unblocked (test hook)', { peer: name });
  t.resumeRedial(name);
  return true;
}
