/** An error as it travels in an exit reason: plain data, so it crosses the wire intact. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
}

/**
 * Why a process ended. The closed part mirrors OTP:
 * - `'normal'`: the process finished; ignored by linked processes that do not trap exits.
 * - `'shutdown'` / `{ shutdown: x }`: an orderly but not normal stop (supervisors use it).
 * - `'kill'`: untrappable when sent with `exit(pid, 'kill')`; the victim ends as `'killed'`.
 * - `'noproc'`, `'noconnection'`: made up by the runtime (no such process; node lost).
 * - `{ error }`: a handler threw an Error (name, message and stack kept).
 * - `{ nocatch: v }`: a handler threw a value that is not an Error.
 * Any other value is a user-chosen reason, passed through unchanged.
 */
export type ExitReason =
  | 'normal'
  | 'shutdown'
  | { shutdown: unknown }
  | 'kill'
  | 'killed'
  | 'noproc'
  | 'noconnection'
  | { error: SerializedError }
  | { nocatch: unknown }
  | unknown;

/** True for `normal`, `shutdown` and `{ shutdown: _ }`: the reasons a `transient` child is not restarted for. */
export function isNormalExit(reason: unknown): boolean {
  return reason === 'normal' || isShutdown(reason);
}

export function isShutdown(reason: unknown): boolean {
  return (
    reason === 'shutdown' ||
    (typeof reason === 'object' && reason !== null && 'shutdown' in reason && Object.keys(reason).length === 1)
  );
}

export function serializeError(err: Error): SerializedError {
  const out: SerializedError = { name: err.name, message: err.message };
  // V8 formats a stack only when it is read, and that is most of a crash's
  // cost: read it when someone looks (a log line, the wire), not at every exit.
  if ('stack' in err) {
    Object.defineProperty(out, 'stack', {
      enumerable: true,
      configurable: true,
      get(): string | undefined {
        const stack = err.stack;
        Object.defineProperty(out, 'stack', { value: stack, enumerable: true, writable: true, configurable: true });
        return stack;
      },
    });
  }
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') out.code = code;
  return out;
}

/**
 * The key of a method by which an error names the exit reason it makes when
 * nobody catches it (a call failure: OTP's `{Reason, {gen_server, call, ...}}`).
 */
export const exitReasonOf: unique symbol = Symbol('troupe.exitReasonOf');

/** Turns anything thrown by a handler into the exit reason of its process. */
export function reasonFromThrown(thrown: unknown): ExitReason {
  if (thrown instanceof ExitException) return thrown.reason;
  if (thrown instanceof Error) {
    const own = (thrown as { [exitReasonOf]?: () => ExitReason })[exitReasonOf];
    return typeof own === 'function' ? own.call(thrown) : { error: serializeError(thrown) };
  }
  return { nocatch: thrown };
}

/** Thrown by `ctx.exit(reason)`: ends the calling process with `reason` unchanged (Erlang's `exit/1`). */
export class ExitException {
  constructor(readonly reason: ExitReason) {}
}

/** A short human form of a reason for logs. */
export function formatReason(reason: unknown): string {
  if (typeof reason === 'string') return reason;
  if (typeof reason === 'object' && reason !== null && 'error' in reason) {
    const e = (reason as { error: SerializedError }).error;
    if (e && typeof e === 'object' && 'message' in e) return `${e.name}: ${e.message}`;
  }
  try {
    return JSON.stringify(reason) ?? String(reason);
  } catch {
    return String(reason);
  }
}

/** What a thrown value says: an Error's message, anything else in its `formatReason` form. */
export function errText(e: unknown): string {
  return e instanceof Error ? e.message : formatReason(e);
}
