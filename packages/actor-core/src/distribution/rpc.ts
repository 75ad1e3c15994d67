import { BadArgError, CallExitError, CallTimeoutError, NoProcError, NodeDownError } from '../errors.js';
import { ExitException, formatReason, serializeError, type SerializedError } from '../exit-reason.js';
import { isCall, isCast, type From } from '../internal/calls.js';
import type { Node } from '../node.js';
import type { Pid } from '../pid.js';
import { isDownMessage, type Behaviour, type ProcessContext } from '../types.js';
import { nodeOf } from '../start-result.js';
import {
  RpcError,
  RpcExitError,
  RpcNodeDownError,
  RpcRemoteError,
  RpcTimeoutError,
  RpcUnknownFunctionError,
} from './rpc-errors.js';

/** The registered name of each node's RPC server. Reserved. */
export const RPC_SERVER = 'troupe_rpc';

/** Default bound on every `Rpc.call` (ms), as Erlang's `rpc` default of `infinity` is a hang. */
export const DEFAULT_RPC_TIMEOUT = 30_000;

/** Who asked, as seen by an exposed function. */
export interface RpcCallInfo {
  /** The calling process, or null for a call from outside any process (and for casts). */
  readonly from: Pid | null;
  /** The caller's node as it claims it (null for casts). */
  readonly node: string | null;
  /** The short-lived process running this request: `ctx.signal` aborts if it is killed. */
  readonly ctx: ProcessContext;
}

/**
 * A function peers may call. `args` come from the peer: validate them. The
 * result (or the awaited promise) must be encodable by the transport.
 */
export type RpcFunction = (args: readonly unknown[], info: RpcCallInfo) => unknown;

export interface RpcCallOptions {
  /** ms; default: the per-peer timeout (`setNodeTimeout`), else the node's default (30 000). */
  timeoutMs?: number;
}

/** Who makes the call: a node (from outside any process) or a running process. */
export type RpcOrigin = Node | ProcessContext;

export type RpcResult<R = unknown> = { node: string; ok: true; value: R } | { node: string; ok: false; error: Error };

/** One result per requested node, in the order given; `badNodes`: those that were down or timed out. */
export interface MulticallResult<R = unknown> {
  results: RpcResult<R>[];
  badNodes: string[];
}

/** The request a caller puts in a call/cast envelope. */
interface RpcRequest {
  fn: string;
  args: unknown[];
}

/** The answer, as a compact tuple (it crosses the wire on every call). */
type RpcReply =
  | ['ok', unknown]
  | ['undef']
  | ['error', SerializedError, (string | number | boolean | null)?]
  | ['exit', unknown];

interface RpcState {
  readonly fns: Map<string, RpcFunction>;
  readonly peerTimeouts: Map<string, number>;
  defaultTimeout: number;
  server: Pid | null;
}

const states = new WeakMap<Node, RpcState>();

function state(node: Node): RpcState {
  let s = states.get(node);
  if (s === undefined) states.set(node, (s = { fns: new Map(), peerTimeouts: new Map(), defaultTimeout: DEFAULT_RPC_TIMEOUT, server: null }));
  return s;
}

function checkTimeout(what: string, ms: number): void {
  if (typeof ms !== 'number' || Number.isNaN(ms) || ms < 0) throw new BadArgError(`${what}: a timeout must be a number ≥ 0 (or Infinity), got ${formatReason(ms)}`);
}

function isRequest(r: unknown): r is RpcRequest {
  return typeof r === 'object' && r !== null && typeof (r as RpcRequest).fn === 'string' && Array.isArray((r as RpcRequest).args);
}

function primitive(v: unknown): v is string | number | boolean | null {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

/** What a throw becomes on the wire: the error's name/message/stack, never the live object. */
function thrownReply(e: unknown): RpcReply {
  if (e instanceof Error) {
    const s = serializeError(e);
    // Read the (lazy) stack now: the reply may be encoded after this process is gone.
    return ['error', { name: s.name, message: s.message, ...(s.stack !== undefined ? { stack: s.stack } : {}) }];
  }
  return primitive(e) ? ['error', { name: 'Thrown', message: formatReason(e) }, e] : ['error', { name: 'Thrown', message: formatReason(e) }];
}

/**
 * The per-node RPC server: it answers unknown functions itself and runs each
 * allowed request in its own short-lived, monitored process (like erpc), so
 * a slow function never blocks the others and a killed executor still
 * produces an answer.
 */
function rpcServer(node: Node, st: RpcState): Behaviour<unknown, Map<string, { from: From | null; fn: string; done: boolean }>> {
  return {
    name: RPC_SERVER,
    init: () => new Map(),
    handle(m, ctx) {
      const jobs = ctx.state;
      if (isDownMessage(m)) {
        const job = jobs.get(m.ref.key);
        if (job === undefined) return;
        jobs.delete(m.ref.key);
        // Killed by an exit signal before it could answer (erpc's `{signal, R}`).
        if (!job.done && job.from !== null) node.reply(job.from, ['exit', m.reason] satisfies RpcReply);
        return;
      }
      let from: From | null;
      let req: unknown;
      if (isCall(m)) [from, req] = [m.from, m.req];
      else if (isCast(m)) [from, req] = [null, m.req];
      else return;
      if (!isRequest(req)) {
        node.logger.warn('rpc: malformed request ignored', { from: from?.node ?? null });
        if (from !== null) node.reply(from, ['undef'] satisfies RpcReply);
        return;
      }
      const f = st.fns.get(req.fn);
      if (f === undefined) {
        if (from !== null) node.reply(from, ['undef'] satisfies RpcReply);
        else node.logger.warn('rpc: cast of a function that is not exposed', { fn: req.fn });
        return;
      }
      const job = { from, fn: req.fn, done: false };
      const args = req.args;
      const [, ref] = ctx.spawnMonitor(
        async (w: ProcessContext<unknown, undefined>) => {
          let out: RpcReply;
          try {
            out = ['ok', await f(args, { from: from?.pid ?? null, node: from?.node ?? null, ctx: w })];
          } catch (e) {
            if (e instanceof ExitException) {
              job.done = true;
              if (from !== null) node.reply(from, ['exit', e.reason] satisfies RpcReply);
              throw e; // ends the executor with that reason, as the function asked
            }
            out = thrownReply(e);
          }
          // Killed meanwhile (its async code cannot be stopped): the server's DOWN answers for it.
          if (w.signal.aborted) return;
          if (from === null && out[0] === 'error') node.logger.warn('rpc: cast failed', { fn: job.fn, error: out[1] });
          job.done = true;
          if (from !== null) node.reply(from, out);
        },
        { label: `rpc:${req.fn}` },
      );
      jobs.set(ref.key, job);
    },
  };
}

function ensureServer(node: Node, st: RpcState): void {
  if (st.server !== null && node.isAlive(st.server)) return;
  const holder = node.whereis(RPC_SERVER);
  if (holder !== undefined) throw new BadArgError(`rpc: the name '${RPC_SERVER}' is reserved, but ${holder.toString()} holds it`);
  st.server = node.spawn(rpcServer(node, st), { name: RPC_SERVER, label: RPC_SERVER });
}

function timeoutFor(node: Node, peer: string, opts: RpcCallOptions | undefined): number {
  const st = states.get(node);
  return opts?.timeoutMs ?? st?.peerTimeouts.get(peer) ?? st?.defaultTimeout ?? DEFAULT_RPC_TIMEOUT;
}

function unwrap(peer: string, fn: string, r: unknown): unknown {
  if (Array.isArray(r)) {
    switch (r[0]) {
      case 'ok':
        return r[1];
      case 'undef':
        throw new RpcUnknownFunctionError(peer, fn);
      case 'error': {
        const e = r[1] as SerializedError;
        const remote: SerializedError = { name: String(e?.name ?? 'Error'), message: String(e?.message ?? ''), ...(typeof e?.stack === 'string' ? { stack: e.stack } : {}) };
        throw new RpcRemoteError(peer, fn, remote, primitive(r[2]) ? r[2] : undefined);
      }
      case 'exit':
        throw new RpcExitError(peer, fn, r[1]);
    }
  }
  throw new RpcError('TROUPE_ERR_RPC_BADREPLY', `rpc ${fn} on ${peer}: malformed answer ${formatReason(r)}`, peer, fn, 'badreply');
}

/** The call path's errors, in RPC terms. */
function translate(peer: string, fn: string, e: unknown): unknown {
  if (e instanceof CallTimeoutError) return new RpcTimeoutError(peer, fn, e.timeoutMs);
  if (e instanceof NodeDownError) return new RpcNodeDownError(peer, fn);
  // No RPC server there: the node exposes nothing, so nothing is callable.
  if (e instanceof NoProcError) return new RpcUnknownFunctionError(peer, fn);
  if (e instanceof CallExitError) return new RpcExitError(peer, fn, e.reason);
  return e;
}

function validate(what: string, peer: unknown, fn: unknown, args: unknown): void {
  if (typeof peer !== 'string') throw new BadArgError(`${what}: node must be a string, got ${formatReason(peer)}`);
  if (typeof fn !== 'string' || fn.length === 0) throw new BadArgError(`${what}: function name must be a non-empty string, got ${formatReason(fn)}`);
  if (!Array.isArray(args)) throw new BadArgError(`${what}: args must be an array, got ${formatReason(args)}`);
}

/**
 * Remote procedure calls between nodes, allow-listed (Erlang's `erpc`, with
 * typed exceptions). A node makes functions callable with `expose`; peers
 * `call` / `cast` / `multicall` them by name. Transport-agnostic: it rides
 * on the node's one call path (`{ name: 'troupe_rpc', node }`).
 */
export const Rpc = {
  /** Allows peers (and this node) to call `fn` as `name`; starts the RPC server on first use. Re-exposing replaces. */
  expose(node: Node, name: string, fn: RpcFunction): void {
    if (typeof name !== 'string' || name.length === 0) throw new BadArgError(`Rpc.expose: a name must be a non-empty string, got ${formatReason(name)}`);
    if (typeof fn !== 'function') throw new BadArgError(`Rpc.expose: '${name}' needs a function`);
    const st = state(node);
    ensureServer(node, st);
    st.fns.set(name, fn);
  },

  /** Removes `name` from the allow-list; requests already running finish. */
  unexpose(node: Node, name: string): boolean {
    return states.get(node)?.fns.delete(name) ?? false;
  },

  /** The names peers may call on `node`. */
  exposed(node: Node): string[] {
    return [...(states.get(node)?.fns.keys() ?? [])];
  },

  /** The default timeout of calls made by `node` (ms). */
  setDefaultTimeout(node: Node, ms: number): void {
    checkTimeout('Rpc.setDefaultTimeout', ms);
    state(node).defaultTimeout = ms;
  },

  /** The timeout of calls made by `node` to `peer` (ms); `undefined` clears it. */
  setNodeTimeout(node: Node, peer: string, ms: number | undefined): void {
    if (ms === undefined) {
      states.get(node)?.peerTimeouts.delete(peer);
      return;
    }
    checkTimeout('Rpc.setNodeTimeout', ms);
    state(node).peerTimeouts.set(peer, ms);
  },

  /**
   * Calls `fn(args)` on `peer` and resolves to its result. Rejects with
   * `RpcTimeoutError`, `RpcNodeDownError` (at once if not connected),
   * `RpcUnknownFunctionError`, `RpcRemoteError` (it threw), `RpcExitError`
   * (its process exited), or `BadArgError`. The late answer of a timed-out
   * call is dropped; the remote function is not stopped.
   */
  call<R = unknown>(origin: RpcOrigin, peer: string, fn: string, args: readonly unknown[] = [], opts?: RpcCallOptions): Promise<R> {
    const node = nodeOf(origin);
    try {
      validate('Rpc.call', peer, fn, args);
      if (opts?.timeoutMs !== undefined) checkTimeout('Rpc.call', opts.timeoutMs);
    } catch (e) {
      return Promise.reject(e);
    }
    const caller = 'self' in origin ? node.lookup(origin.self) : null;
    const req: RpcRequest = { fn, args: [...args] };
    return node.calls.call(caller, { name: RPC_SERVER, node: peer }, req, timeoutFor(node, peer, opts)).then(
      (r) => unwrap(peer, fn, r) as R,
      (e: unknown) => Promise.reject(translate(peer, fn, e)),
    );
  },

  /** Runs `fn(args)` on `peer`, no answer. Silent for an unknown or unreachable node; failures are logged there. */
  cast(origin: RpcOrigin, peer: string, fn: string, args: readonly unknown[] = []): void {
    validate('Rpc.cast', peer, fn, args);
    const req: RpcRequest = { fn, args: [...args] };
    nodeOf(origin).cast({ name: RPC_SERVER, node: peer }, req);
  },

  /**
   * Calls `fn(args)` on every node at once and waits for all of them (each
   * bounded by the timeout). Results come in the order of `nodes`; nodes
   * that were down or did not answer in time are also listed in `badNodes`.
   */
  async multicall<R = unknown>(origin: RpcOrigin, nodes: readonly string[], fn: string, args: readonly unknown[] = [], opts?: RpcCallOptions): Promise<MulticallResult<R>> {
    if (!Array.isArray(nodes)) throw new BadArgError(`Rpc.multicall: nodes must be an array, got ${formatReason(nodes)}`);
    for (const n of nodes) validate('Rpc.multicall', n, fn, args);
    const results = await Promise.all(
      nodes.map((peer) =>
        Rpc.call<R>(origin, peer, fn, args, opts).then(
          (value): RpcResult<R> => ({ node: peer, ok: true, value }),
          (e: unknown): RpcResult<R> => ({ node: peer, ok: false, error: e instanceof Error ? e : new Error(formatReason(e)) }),
        ),
      ),
    );
    const badNodes = results.filter((r) => !r.ok && (r.error instanceof RpcTimeoutError || r.error instanceof RpcNodeDownError)).map((r) => r.node);
    return { results, badNodes };
  },
};
