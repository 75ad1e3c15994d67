import type { Pid, Ref } from '../pid.js';
import type { ExitReason } from '../exit-reason.js';
import type { RemoteName } from '../types.js';
import type { DecodedFrame } from './codec.js';

/**
 * What crosses between nodes. A transport must deliver the signals for one
 * peer in the order they were given (one FIFO for data and control), so
 * OTP's per-pair ordering holds across nodes.
 */
export type Signal =
  | { k: 'send'; to: Pid; msg: unknown }
  | { k: 'send_name'; name: string; msg: unknown }
  /** `link: true` when caused by the death of a linked process; false for `exit(pid, reason)`. */
  | { k: 'exit'; from: Pid; to: Pid; reason: ExitReason; link: boolean }
  | { k: 'link'; from: Pid; to: Pid }
  | { k: 'unlink'; from: Pid; to: Pid }
  /** `from: null`: the monitor belongs to a pending call (ref id = call tag). `to` a string: a name monitor. */
  | { k: 'monitor'; from: Pid | null; to: Pid | string; ref: Ref }
  | { k: 'demonitor'; from: Pid | null; ref: Ref }
  | { k: 'down'; to: Pid | null; ref: Ref; object: Pid | RemoteName; reason: ExitReason }
  | { k: 'reply'; tag: number; value: unknown }
  /**
   * The reply to the call `tag` could not be encoded (too deep, too large, a
   * symbol...): the call fails at once with a `CodecError` saying `message`,
   * instead of waiting out its timeout. The codec puts it in the reply's place.
   */
  | { k: 'reply_failed'; tag: number; message: string }
  /**
   * A `GenServer.call` to a process (or a name registered) on the receiving
   * node. It also monitors the server for the call (ref: the caller node's
   * `#tag`): a `down` with `to: null` fails the call. The server node drops
   * that monitor when it sends a `reply` for the tag; the caller sends a
   * `demonitor` only when the call ends some other way (timeout, a reply
   * from elsewhere). `from`: the calling process (of the sending node), or null.
   */
  | { k: 'call'; to: Pid | string; tag: number; from: Pid | null; req: unknown }
  /**
   * Spawn a behaviour the receiving node exposed under `name`. `ref` names the
   * request and, with `monitor`, is also the monitor's ref (as in Erlang's
   * `spawn_request`). With `link`/`monitor` the child is linked/monitored
   * before it runs; `from` is then the requesting process.
   */
  | { k: 'spawn_request'; ref: Ref; from: Pid | null; name: string; args: unknown[]; link: boolean; monitor: boolean }
  /** `pid` on success; otherwise `error` is a code (`not_exposed`, `badarg`, `spawn_failed`) and `message` says why. */
  | { k: 'spawn_reply'; ref: Ref; pid: Pid | null; error: string | null; message: string | null };

export type SignalKind = Signal['k'];

/**
 * A transport's outgoing FIFO to one connected peer, handed to `nodeUp`: the
 * send path then needs no lookup by node name and, for a plain send, no
 * Signal object. Both methods return false once the connection is closed.
 */
export interface PeerChannel {
  /** As `Transport.sendSignal` to this peer. */
  signal(s: Signal): boolean;
  /** A `send` to the peer's process `(id, creation)`. */
  send(id: number, creation: number, msg: unknown): boolean;
}

/**
 * What a transport implements. It attaches with `node.dist.attach(transport)`,
 * authenticates peers, then calls `port.nodeUp(name, creation)`, feeds every
 * signal received to `port.handle(from, signal)` (or a decoded frame to
 * `port.handleFrame`), and calls `port.nodeDown(name, reason)` once the
 * connection is gone (after the last signal from it).
 */
export interface Transport {
  /**
   * Queues `signal` for `node` behind everything sent to it before; false if
   * there is no connection. May throw a `CodecError` when the user payload of
   * a `send`/`send_name`/`reply`/`spawn_request` cannot be encoded (the
   * sender's error, like `structuredClone`'s `DataCloneError`).
   */
  sendSignal(node: string, signal: Signal): boolean;
  /** Called when the node shuts down: close every connection (peers then see `nodedown`). */
  close?(): void;
}

/** What `node.dist.attach` hands a transport: the node's side of its connections. */
export interface TransportPort {
  /**
   * An authenticated connection to `name` (incarnation `creation`). A
   * `hidden` peer is listed only by `nodes('hidden')`; `channel` is the
   * transport's FIFO to it (the send fast path).
   */
  nodeUp(name: string, creation: number, opts?: { hidden?: boolean; channel?: PeerChannel }): void;
  /**
   * The connection to `name` is gone: every link to its processes fires
   * `noconnection`, every monitor a DOWN with `noconnection`, every pending
   * call fails with a node-down error, every pending spawn on it too.
   * Called after the last signal from it.
   */
  nodeDown(name: string, reason: string): void;
  /** A signal from `fromNode`, in the order it was sent. Nothing in it can throw out of here. */
  handle(fromNode: string, s: Signal): void;
  /**
   * A decoded frame from `fromNode`: as `handle` for each of its signals in
   * order. Stops when `conn.closed` becomes true or `fromNode` is no longer
   * connected.
   */
  handleFrame(fromNode: string, frame: DecodedFrame, conn?: { readonly closed: boolean } | null): void;
  /** The transport closed: it is detached and every peer is down (reason `shutdown`). */
  detach(): void;
}
