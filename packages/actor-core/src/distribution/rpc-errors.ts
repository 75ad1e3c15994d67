import { TroupeError } from '../errors.js';
import { formatReason, type ExitReason, type SerializedError } from '../exit-reason.js';

/**
 * Base of the errors `Rpc.call` raises (erpc-style typed exceptions, not
 * `{badrpc, _}` values). `reason`: `timeout`, `noconnection`, `undef`,
 * `exception` or `exit`.
 */
export class RpcError extends TroupeError {
  constructor(
    code: string,
    message: string,
    readonly node: string,
    readonly fn: string,
    readonly reason: string,
  ) {
    super(code, message);
  }
}

/** No answer within the timeout (erpc `{erpc, timeout}`); a late answer is dropped. */
export class RpcTimeoutError extends RpcError {
  constructor(node: string, fn: string, readonly timeoutMs: number) {
    super('TROUPE_ERR_RPC_TIMEOUT', `rpc ${fn} on ${node}: no answer within ${timeoutMs} ms`, node, fn, 'timeout');
  }
}

/** The node is not connected, or went down before it answered (erpc `{erpc, noconnection}`). */
export class RpcNodeDownError extends RpcError {
  constructor(node: string, fn: string) {
    super('TROUPE_ERR_RPC_NODEDOWN', `rpc ${fn} on ${node}: node is down`, node, fn, 'noconnection');
  }
}

/** The node does not expose `fn` (the allow-list), or exposes nothing at all. */
export class RpcUnknownFunctionError extends RpcError {
  constructor(node: string, fn: string) {
    super('TROUPE_ERR_RPC_UNDEF', `rpc: node ${node} does not expose '${fn}' (see Rpc.expose)`, node, fn, 'undef');
  }
}

/**
 * The remote function threw (erpc `error:{exception, E, Stack}`). `remote`
 * is the serialized error; for a thrown non-Error, `name` is `'Thrown'` and
 * `thrown` the value when it is a primitive.
 */
export class RpcRemoteError extends RpcError {
  constructor(
    node: string,
    fn: string,
    readonly remote: SerializedError,
    readonly thrown?: string | number | boolean | null,
  ) {
    super('TROUPE_ERR_RPC_EXCEPTION', `rpc ${fn} on ${node} threw ${remote.name}: ${remote.message}`, node, fn, 'exception');
  }
}

/**
 * The process running the function exited (it called `ctx.exit(r)`, or was
 * killed by an exit signal: erpc `exit:{exception, R}` / `exit:{signal, R}`).
 */
export class RpcExitError extends RpcError {
  constructor(node: string, fn: string, readonly exitReason: ExitReason) {
    super('TROUPE_ERR_RPC_EXIT', `rpc ${fn} on ${node}: the executing process exited: ${formatReason(exitReason)}`, node, fn, 'exit');
  }
}
