import type { Pid, Ref } from '../pid.js';
import type { ExitReason } from '../exit-reason.js';
import type { From } from '../internal/calls.js';
import type { ProcessContext, SpawnOptions, ViaName } from '../types.js';

/** Phantom key of the brands below: never present at run time, so no value is exported. */
declare const serverProtocol: unique symbol;
declare const replyType: unique symbol;

/**
 * A GenServer's pid, carrying its protocol in the type only: `GenServer.call`
 * on it checks the request against `Call` and resolves to `Reply`. At run time
 * it is the plain `Pid` (it serializes and compares like one).
 */
export type ServerRef<Call = unknown, Cast = unknown, Reply = unknown> = Pid & {
  // Method syntax keeps the check bivariant, so every ref is assignable to the
  // default `ServerRef` (unknown protocol) and to `StartResult`, while two
  // unrelated protocols still do not mix.
  readonly [serverProtocol]: { call(req: Call): Reply; cast(req: Cast): void };
};

/** A pid that is not a typed `ServerRef`: the untyped overloads take these, so a typed ref never falls back to them. */
export type PlainPid = Pid & { readonly [serverProtocol]?: never };

/** Where an untyped call or cast can go. */
export type UntypedDest = PlainPid | string | { name: string; node: string } | ViaName;

/** The `from` of a call: answer it once, with `GenServer.reply`, from any process. Typed by the reply it expects. */
export type ReplyTo<Reply = unknown> = From & { readonly [replyType]?: (r: Reply) => void };

/** What an idle `timeout: ms` delivers to `handleInfo` (OTP's `timeout` atom). */
export type IdleTimeout = 'timeout';
export const IDLE_TIMEOUT: IdleTimeout = 'timeout';

/**
 * An event timeout (OTP's `{timeout, T, Msg}` action): `msg` goes to
 * `handleInfo` after `after` ms unless another message arrives first.
 * With `after: 0` it is handled at once, before messages already queued.
 */
export interface EventTimeout<Info> {
  after: number;
  msg: Info;
}

/**
 * The optional action after a callback (OTP allows one): `continue` runs
 * `handleContinue` before any other message; `timeout` (ms, or an event
 * timeout) delivers a message to `handleInfo` if the server stays idle that
 * long — any message cancels it; `timeout: 0` fires only if the mailbox is
 * empty. `Infinity` means no timeout. A `continue` payload must not be `undefined`.
 */
export type Action<Info, Cont> =
  | { continue?: undefined; timeout?: undefined }
  | { continue: Cont; timeout?: undefined }
  | { timeout: number | EventTimeout<Info>; continue?: undefined };

export type InitResult<S, Info = unknown, Cont = unknown> =
  | ({ ok: S } & Action<Info, Cont>)
  | 'ignore'
  | { stop: ExitReason }
  | { error: unknown };

/** `{ stop }` ends the server: `terminate(stop, state)` runs, then it exits with `stop`. */
export interface StopResult<S> {
  stop: ExitReason;
  state: S;
}

export type NoReplyResult<S, Info = unknown, Cont = unknown> = { noreply: S } & Action<Info, Cont>;

export type CallResult<S, Reply, Info = unknown, Cont = unknown> =
  | ({ reply: Reply; state: S } & Action<Info, Cont>)
  | NoReplyResult<S, Info, Cont>
  /** The reply is sent before `terminate` runs. */
  | { stop: ExitReason; reply: Reply; state: S }
  | StopResult<S>;

export type CastResult<S, Info = unknown, Cont = unknown> = NoReplyResult<S, Info, Cont> | StopResult<S>;

type MaybeAsync<T> = T | Promise<T>;

/** The context every callback gets: the server's own process. */
export type ServerContext = ProcessContext<unknown, unknown>;

/**
 * The callbacks of a GenServer (OTP's `gen_server` behaviour). Each may be
 * synchronous (no Promise per message) or async (suspends only this server:
 * its mailbox stays closed until the callback settles).
 *
 * - `Call` / `Cast`: the requests it accepts; `Reply`: what calls resolve to;
 * - `Info`: other messages (include `ExitMessage`, `DownMessage`, ... if you expect them);
 * - `Args`: what `start` passes to `init`; `Cont`: `continue` payloads.
 *
 * Missing `handleCall` / `handleCast` / `handleContinue`: the server crashes
 * with `{ undef: 'handleCall' }` (etc.) when one is needed, as OTP does.
 * Missing `handleInfo`: a warning is logged and the message dropped.
 */
export interface GenServer<S, Call = unknown, Cast = unknown, Reply = unknown, Info = unknown, Args = undefined, Cont = unknown> {
  /** Shown in observability and crash reports. */
  readonly name?: string;
  init(args: Args, ctx: ServerContext): MaybeAsync<InitResult<S, Info, Cont>>;
  handleCall?(req: Call, from: ReplyTo<Reply>, state: S, ctx: ServerContext): MaybeAsync<CallResult<S, Reply, Info, Cont>>;
  handleCast?(req: Cast, state: S, ctx: ServerContext): MaybeAsync<CastResult<S, Info, Cont>>;
  handleInfo?(msg: Info | IdleTimeout, state: S, ctx: ServerContext): MaybeAsync<CastResult<S, Info, Cont>>;
  handleContinue?(cont: Cont, state: S, ctx: ServerContext): MaybeAsync<CastResult<S, Info, Cont>>;
  /**
   * Runs when a callback returns `stop` or throws, on `GenServer.stop`, and
   * when the server traps exits and its parent sends an exit signal — the
   * `startLink` caller, or the server itself if started without a link. Not on other exit signals, never on `kill`.
   */
  terminate?(reason: ExitReason, state: S, ctx: ServerContext): unknown;
}

export interface StartOptions {
  /** Registered before `init` runs; `{ error: { already_started: pid } }` if taken; released if init fails. */
  name?: string | ViaName;
  /** ms `init` may take; past it the half-started server is killed and start gives `{ error: 'timeout' }`. */
  timeout?: number;
  /** Passed to spawn (trap exits from the start, throughput, label). */
  spawn?: Omit<SpawnOptions, 'name'>;
}

/** `start` / `startLink`: a `StartResult` whose pid is typed. */
export type GenStartResult<Call = unknown, Cast = unknown, Reply = unknown> =
  | { ok: ServerRef<Call, Cast, Reply>; info?: unknown }
  | 'ignore'
  | { error: unknown };

/** `startMonitor`: also the monitor's ref (OTP's `{ok, {Pid, Mon}}`). */
export type GenStartMonitorResult<Call = unknown, Cast = unknown, Reply = unknown> =
  | { ok: ServerRef<Call, Cast, Reply>; monitor: Ref; info?: unknown }
  | 'ignore'
  | { error: unknown };
