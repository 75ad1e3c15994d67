import { inspect } from 'node:util';
import type { Pid } from './pid.js';
import { exitReasonOf, formatReason, type ExitReason } from './exit-reason.js';

/** Base class of every error Troupe throws; `code` is stable and documented. */
export class TroupeError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }

  /**
   * Under `util.inspect` (console.log, an uncaught error): the stack and the
   * code, not the fields, which can hold a whole registry or process.
   */
  [inspect.custom](): string {
    return `${this.stack ?? `${this.name}: ${this.message}`}\n  { code: '${this.code}' }`;
  }
}

/** A bad argument: a taken or unknown name, a non-pid where a pid is needed (Erlang's `badarg`). */
export class BadArgError extends TroupeError {
  constructor(message: string) {
    super('TROUPE_ERR_BADARG', message);
  }
}

/** What a call was addressed to, for error messages. */
export type CallTarget = Pid | string | { name: string; node: string } | { via: unknown; name: unknown } | null;

function describe(target: CallTarget): string {
  if (target === null) return 'server';
  if (typeof target === 'string') return `'${target}'`;
  if ('via' in target) return `via ${String(target.name)}`;
  if ('name' in target) return `${target.name}@${target.node}`;
  return target.toString();
}

/** The call a failure is about: OTP's `{gen_server, call, [Server, Request, Timeout]}`. */
export interface CallInfo {
  readonly server: CallTarget;
  readonly request: unknown;
  readonly timeoutMs: number;
}

/**
 * The exit reason of a process that dies of a call failure it did not catch
 * (OTP: `{Kind, {gen_server, call, [Server, Request, Timeout]}}`): the kind
 * of failure, or `exit` with the reason of a server that exited during the
 * call — `shutdown` when that reason was `shutdown`, so it stays a shutdown
 * (quiet, not restarted by a transient policy) as it does in OTP.
 */
export type CallFailureReason =
  | { timeout: { call: CallInfo } }
  | { noproc: { call: CallInfo } }
  | { calling_self: { call: CallInfo } }
  | { nodedown: { node: string; call: CallInfo } }
  | { shutdown: { call: CallInfo } }
  | { exit: { reason: ExitReason; call: CallInfo } };

/** Base of the errors a `call` raises in its caller (OTP's `{Reason, {gen_server, call, ...}}`). */
export class CallError extends TroupeError {
  /** The call that failed; set by the runtime when it rejects one. */
  call: CallInfo | null = null;

  constructor(
    code: string,
    message: string,
    readonly target: CallTarget,
    readonly reason: unknown,
  ) {
    super(code, message);
  }

  /** The exit reason this failure makes when uncaught. */
  [exitReasonOf](): CallFailureReason {
    const call: CallInfo = this.call ?? { server: this.target, request: undefined, timeoutMs: NaN };
    switch (this.reason) {
      case 'timeout':
        return { timeout: { call } };
      case 'noproc':
        return { noproc: { call } };
      case 'calling_self':
        return { calling_self: { call } };
    }
    if (this instanceof NodeDownError) return { nodedown: { node: this.node, call } };
    if (this.reason === 'shutdown') return { shutdown: { call } };
    return { exit: { reason: this.reason, call } };
  }
}

/** Records on `e` which call failed (for its exit reason). */
export function ofCall<E extends CallError>(e: E, server: CallTarget, request: unknown, timeoutMs: number): E {
  e.call = { server, request, timeoutMs };
  return e;
}

/** No reply within the timeout; a late reply is dropped. */
export class CallTimeoutError extends CallError {
  constructor(target: CallTarget, readonly timeoutMs: number) {
    super('TROUPE_ERR_CALL_TIMEOUT', `call to ${describe(target)} timed out after ${timeoutMs} ms`, target, 'timeout');
  }
}

/** The server does not exist (dead pid, unregistered name). */
export class NoProcError extends CallError {
  constructor(target: CallTarget) {
    super('TROUPE_ERR_NOPROC', `no process ${describe(target)}`, target, 'noproc');
  }
}

/** A process called itself: it would wait for itself forever. */
export class CallingSelfError extends CallError {
  constructor(target: CallTarget) {
    super('TROUPE_ERR_CALLING_SELF', `process ${describe(target)} called itself`, target, 'calling_self');
  }
}

/** The server exited before replying; `reason` is its exit reason. */
export class CallExitError extends CallError {
  constructor(target: CallTarget, reason: unknown) {
    super('TROUPE_ERR_CALL_EXIT', `${describe(target)} exited during the call: ${formatReason(reason)}`, target, reason);
  }
}

/** The server's node went down or could not be reached. */
export class NodeDownError extends CallError {
  constructor(target: CallTarget, readonly node: string) {
    super('TROUPE_ERR_NODEDOWN', `node ${node} is down (calling ${describe(target)})`, target, { nodedown: node });
  }
}

/**
 * A call made through the context of a process that has exited. Nothing a
 * dead process does takes effect (OTP runs no code after an exit); its calls
 * reject at once with this.
 */
export class ExitedError extends TroupeError {
  constructor(readonly pid: Pid) {
    super('TROUPE_ERR_EXITED', `process ${pid.toString()} has exited: its operations have no effect`);
  }
}

/** An awaitable wait (`node.whenConnected`, `registry.whenRegistered`) ran out of time: `what` says what did not happen. */
export class WaitTimeoutError extends TroupeError {
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
  ) {
    super('TROUPE_ERR_WAIT_TIMEOUT', `timed out after ${timeoutMs} ms waiting for ${what}`);
  }
}
