import type { Pid } from './pid.js';
import type { Node } from './node.js';

/**
 * What starting a process (GenServer, Supervisor, a child's `start`) returns,
 * after its `init` has finished — OTP's `{ok, Pid} | {ok, Pid, Info} | ignore | {error, Reason}`.
 */
export type StartResult = { ok: Pid; info?: unknown } | 'ignore' | { error: unknown };

/**
 * Where a start or call is made from: a process (its `ctx`), or code outside
 * any process (the `Node`). Starting with a link, and `calling_self`
 * detection, need a process.
 */
export type Origin = Node | { readonly self: Pid; readonly node: Node };

/** The node an origin belongs to. */
export function nodeOf(origin: Origin): Node {
  return 'self' in origin ? origin.node : origin;
}

export function isStarted(r: StartResult): r is { ok: Pid; info?: unknown } {
  return typeof r === 'object' && r !== null && 'ok' in r;
}
