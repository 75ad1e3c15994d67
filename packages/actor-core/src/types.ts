import type { Pid, Ref } from './pid.js';
import type { ExitReason } from './exit-reason.js';
import type { Node } from './node.js';

/** A name registered on another node (or this one): Erlang's `{Name, Node}`. */
export interface RemoteName {
  name: string;
  node: string;
}

/**
 * A pluggable name registry (Erlang's `{via, Module, Name}`): the cluster
 * registry implements it, and every API that takes a destination accepts
 * `{ via, name }`.
 */
export interface ViaRegistry<N = unknown> {
  /** Registers `pid` under `name`; false if the name is taken. */
  registerName(name: N, pid: Pid): boolean;
  unregisterName(name: N): void;
  whereisName(name: N): Pid | undefined;
  /** Sends `msg` to the process registered as `name`; throws if there is none. */
  send(name: N, msg: unknown): void;
}

export interface ViaName<N = unknown> {
  via: ViaRegistry<N>;
  name: N;
}

/** Where a message can go: a pid, a local name, a name on a node, or a `via` name. */
export type Dest = Pid | string | RemoteName | ViaName;

/** `{ type: 'EXIT' }`: an exit signal turned into a message because the receiver traps exits. */
export interface ExitMessage {
  type: 'EXIT';
  from: Pid;
  reason: ExitReason;
}

/** `{ type: 'DOWN' }`: one per monitor, when the monitored process ends (or never existed). */
export interface DownMessage {
  type: 'DOWN';
  ref: Ref;
  /** The pid for a pid monitor; `{ name, node }` for a name monitor. */
  object: Pid | RemoteName;
  reason: ExitReason;
}

/** `{ type: 'timeout' }`: what `startTimer` delivers. */
export interface TimeoutMessage<T = unknown> {
  type: 'timeout';
  ref: Ref;
  msg: T;
}

export interface NodeUpMessage {
  type: 'nodeup';
  node: string;
}

export interface NodeDownMessage {
  type: 'nodedown';
  node: string;
  reason: string;
}

export type SystemMessage = ExitMessage | DownMessage | TimeoutMessage | NodeUpMessage | NodeDownMessage;

export function isExitMessage(m: unknown): m is ExitMessage {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'EXIT' && 'from' in m;
}

export function isDownMessage(m: unknown): m is DownMessage {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'DOWN' && 'ref' in m;
}

/** Options common to every spawn. */
export interface SpawnOptions {
  /** Start with trap-exit on (Erlang's `process_flag(trap_exit, true)` as the first thing). */
  trapExit?: boolean;
  /** Register this local name before the process runs; throws if taken. */
  name?: string;
  /** Messages handled per scheduler visit before the next process runs (default: the node's). */
  throughput?: number;
  /** A label for observability (defaults to the behaviour's `name`). */
  label?: string;
}

/** What `receive` resolves to when its timeout passes first. */
export const TIMEOUT: unique symbol = Symbol('troupe.timeout');
export type Timeout = typeof TIMEOUT;

export interface ReceiveOptions {
  /** ms; 0 polls; omitted or Infinity waits forever; negative or NaN: `BadArgError` (Erlang's `timeout_value`). */
  timeout?: number;
}

export interface DemonitorOptions {
  /** Also remove a DOWN for this monitor already in the mailbox. */
  flush?: boolean;
  /** Return true only if the monitor was removed before it fired. */
  info?: boolean;
}

/**
 * What a running process sees of itself: its identity and state, and the
 * operations that act on its behalf (send, link, monitor, receive, ...).
 *
 * Once the process has exited, these operations are inert: sends, spawns,
 * links, monitors, exit signals, registrations and timers reach nothing,
 * calls reject at once with `ExitedError`, and `receive` never resolves.
 * (A synchronous handler that exits still runs to its end: Node has no
 * preemption.) `ctx.node` is the node itself, not the process: what is done
 * through it acts as code outside any process.
 */
export interface ProcessContext<M = unknown, S = unknown> {
  readonly self: Pid;
  readonly node: Node;
  /** The behaviour's state; yours to read and replace. */
  state: S;
  /** Aborted when this process ends, so async work it started can stop. */
  readonly signal: AbortSignal;

  send(dest: Dest, msg: unknown): void;
  /** `exit(reason)` ends this process with `reason` (throws, so it never returns). */
  exit(reason: ExitReason): never;
  /** `exit(pid, reason)` sends an exit signal to `pid` (Erlang's `exit/2`). */
  exit(pid: Pid, reason: ExitReason): void;
  link(pid: Pid): void;
  unlink(pid: Pid): void;
  monitor(target: Pid | string | RemoteName): Ref;
  demonitor(ref: Ref, opts?: DemonitorOptions): boolean;
  /** Sets trap-exit; returns the previous value. */
  trapExit(on: boolean): boolean;
  readonly trappingExits: boolean;

  spawn<M2, S2>(body: ProcessBody<M2> | Behaviour<M2, S2>, opts?: SpawnOptions): Pid;
  spawnLink<M2, S2>(body: ProcessBody<M2> | Behaviour<M2, S2>, opts?: SpawnOptions): Pid;
  spawnMonitor<M2, S2>(body: ProcessBody<M2> | Behaviour<M2, S2>, opts?: SpawnOptions): [Pid, Ref];

  register(name: string): void;
  unregister(name: string): void;
  whereis(name: string): Pid | undefined;

  /**
   * Process style only: the oldest message (accepted by `match`, if given);
   * the others stay in order. `match` is a guard: it runs in this process
   * only, and a throw is no match for that message.
   */
  receive<T extends M>(match: (m: M) => m is T, opts: ReceiveOptions & { timeout: number }): Promise<T | Timeout>;
  receive<T extends M>(match: (m: M) => m is T): Promise<T>;
  receive(match: ((m: M) => boolean) | undefined, opts: ReceiveOptions & { timeout: number }): Promise<M | Timeout>;
  receive(match?: (m: M) => boolean): Promise<M>;

  sendAfter(ms: number, dest: Dest, msg: unknown): Ref;
  startTimer(ms: number, dest: Dest, msg: unknown): Ref;
  cancelTimer(ref: Ref): number | false;
  readTimer(ref: Ref): number | false;

  /** A synchronous request to a GenServer-style process; see `GenServer.call`. */
  call<R = unknown>(server: Dest, request: unknown, timeoutMs?: number): Promise<R>;
  /** Fire-and-forget request to a GenServer-style process; never fails. */
  cast(server: Dest, request: unknown): void;
}

/** Process style: an async function that runs once; returning ends the process with `normal`. */
export type ProcessBody<M = unknown> = (ctx: ProcessContext<M, undefined>) => unknown;

/**
 * Behaviour style (the fast path): `handle` runs once per message. A
 * synchronous handler costs no Promise; an async one suspends only its own
 * process until it settles. A throw or rejection ends the process with an
 * error reason.
 */
export interface Behaviour<M = unknown, S = undefined> {
  /** Shown in observability. */
  readonly name?: string;
  /** Runs first; its result becomes `ctx.state`. */
  init?(ctx: ProcessContext<M, S>): S | Promise<S>;
  handle(msg: M, ctx: ProcessContext<M, S>): unknown;
}
