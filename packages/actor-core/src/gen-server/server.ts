import type { Pid, Ref } from '../pid.js';
import type { Proc } from '../internal/process.js';
import { isCall, isCast, ProtocolRequest, type From } from '../internal/calls.js';
import { formatReason, reasonFromThrown, type ExitReason } from '../exit-reason.js';
import { isExitMessage, type Behaviour, type ProcessContext, type ViaName } from '../types.js';
import { IDLE_TIMEOUT, type GenServer, type GenStartResult, type ServerRef } from './types.js';

/** The callbacks with every type parameter erased: the loop only moves values between them. */
export type AnyServer = GenServer<unknown, unknown, unknown, unknown, unknown, unknown, unknown>;

/**
 * System requests travel as calls whose request is a `ProtocolRequest` with
 * a `$sys` operation (OTP's `{system, From, Req}`), so they share the call
 * path's reply slots, timeouts and death detection, and work remotely. A
 * user request with a `$sys` key is only data: it reaches `handleCall`.
 */
export type SysRequest = { $sys: 'stop'; reason: ExitReason } | { $sys: 'get_state' } | { $sys: 'suspend' } | { $sys: 'resume' };

function isSys(req: unknown): req is ProtocolRequest<SysRequest> {
  return req instanceof ProtocolRequest && typeof req.op === 'object' && req.op !== null && typeof (req.op as { $sys?: unknown }).$sys === 'string';
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return x !== null && typeof x === 'object' && typeof (x as PromiseLike<unknown>).then === 'function';
}

/** What the starter hands the server: where to acknowledge init, and what to undo if it fails. */
export interface Boot {
  /** Settles the starter's promise (first call wins). */
  ack(result: GenStartResult): void;
  /** The `startLink` caller: its exit signal runs `terminate`; unlinked before a failed init exits. */
  parent: Pid | null;
  via: ViaName | null;
}

/** A pending idle timeout; `gen` tells a stale one (cancelled after it was queued) from the live one. */
class IdleTick {
  constructor(readonly gen: number) {}
}

const enum Kind {
  Call,
  Cast,
  Info,
  Continue,
}

/**
 * The GenServer loop as a behaviour-style process: `handle` runs once per
 * message, so a synchronous callback costs no Promise; an async one returns
 * its promise and the process stays suspended until it settles (one message
 * in flight at a time, in order, as in OTP).
 * Exits go through `node.terminate` directly rather than a throw, so the
 * process is dead synchronously, before any starter or caller resumes.
 */
export class ServerProcess implements Behaviour<unknown, unknown> {
  readonly name: string;
  private proc!: Proc;
  private viaRegistered = false;
  private armed = false;
  /** A `timeout: 0` set while messages were queued: fires if only system requests were among them. */
  private zeroPending = false;
  private timerRef: Ref | null = null;
  private gen = 0;
  private tickMsg: unknown = IDLE_TIMEOUT;
  /**
   * Whose exit signal runs `terminate` (when trapping): the `startLink`
   * caller, or — started without a link — the server itself, its own parent
   * as with `gen_server:start`.
   */
  private parent!: Pid;
  /** While suspended (`sys:suspend`): the non-system messages taken out meanwhile, put back first on resume. */
  private held: unknown[] | null = null;

  constructor(
    private readonly impl: AnyServer,
    private readonly args: unknown,
    private readonly boot: Boot,
    label: string,
  ) {
    this.name = label;
  }

  // ---- init ----------------------------------------------------------------

  init(ctx: ProcessContext<unknown, unknown>): unknown {
    const p = (this.proc = ctx as Proc);
    this.parent = this.boot.parent ?? p.self;
    const via = this.boot.via;
    if (via !== null) {
      if (!via.via.registerName(via.name, p.self)) {
        return this.initFail({ error: { already_started: via.via.whereisName(via.name) } }, 'normal');
      }
      this.viaRegistered = true;
    }
    if (typeof this.impl.init !== 'function') return this.initFail({ error: { undef: 'init' } }, { undef: 'init' });
    let r: unknown;
    try {
      r = this.impl.init(this.args, p);
    } catch (e) {
      const reason = reasonFromThrown(e);
      return this.initFail({ error: reason }, reason);
    }
    if (isThenable(r)) {
      return Promise.resolve(r).then(
        (v) => this.initDone(v),
        (e) => {
          const reason = reasonFromThrown(e);
          return this.initFail({ error: reason }, reason);
        },
      );
    }
    return this.initDone(r);
  }

  /** Maps init's result to the start result (`{ok}`/`ignore`/`{stop}`/`{error}` as `gen_server:start` does), then runs its action. */
  private initDone(r: unknown): unknown {
    const p = this.proc;
    if (!p.alive) return undefined; // killed while init was pending (e.g. the start timeout)
    if (r === 'ignore') return this.initFail('ignore', 'normal');
    if (typeof r === 'object' && r !== null) {
      if ('ok' in r) {
        p.state = (r as { ok: unknown }).ok;
        this.boot.ack({ ok: p.self as ServerRef });
        const next = this.action(r as Record<string, unknown>);
        // Behaviour.init's value becomes ctx.state: hand back the state the action left.
        return isThenable(next) ? Promise.resolve(next).then(() => p.state) : p.state;
      }
      if ('stop' in r) {
        const reason = (r as { stop: unknown }).stop;
        return this.initFail({ error: reason }, reason);
      }
      // OTP 26+: `{error, R}` gives `{error, R}` and a quiet `normal` exit.
      if ('error' in r) return this.initFail({ error: (r as { error: unknown }).error }, 'normal');
    }
    const reason = { bad_return_value: r };
    return this.initFail({ error: reason }, reason);
  }

  /**
   * OTP 26+ `proc_lib:init_fail`: the name is released and the link to the
   * starter removed before the exit, so a `startLink` caller gets the result
   * and no EXIT signal.
   */
  private initFail(result: GenStartResult, reason: ExitReason): undefined {
    const p = this.proc;
    const parent = this.boot.parent;
    if (parent !== null) p.unlink(parent);
    if (this.viaRegistered) {
      this.viaRegistered = false;
      this.boot.via!.via.unregisterName(this.boot.via!.name);
    }
    this.boot.ack(result);
    this.die(reason);
    return undefined;
  }

  // ---- the loop --------------------------------------------------------------

  handle(msg: unknown): unknown {
    if (isCall(msg)) {
      const req = msg.req;
      if (isSys(req)) return this.system(req.op, msg.from);
      if (this.held !== null) return void this.held.push(msg);
      this.cancelTimeout();
      if (this.impl.handleCall === undefined) return this.stop({ undef: 'handleCall' });
      return this.dispatch(Kind.Call, req, msg.from);
    }
    // Suspended, only the parent's exit signal is still taken (sys.erl's suspend loop).
    if (this.held !== null && !(isExitMessage(msg) && this.boot.parent !== null && msg.from.equals(this.boot.parent))) return void this.held.push(msg);
    if (isCast(msg)) {
      this.cancelTimeout();
      if (this.impl.handleCast === undefined) return this.stop({ undef: 'handleCast' });
      return this.dispatch(Kind.Cast, msg.req, null);
    }
    if (msg instanceof IdleTick) {
      if (msg.gen !== this.gen || !this.armed) return undefined; // cancelled after it was queued
      this.armed = false;
      this.timerRef = null;
      return this.info(this.tickMsg);
    }
    // An exit signal from the parent ends the server through terminate (it can only be a message if trapping).
    if (isExitMessage(msg) && msg.from.equals(this.parent)) return this.stop(msg.reason);
    this.cancelTimeout();
    return this.info(msg);
  }

  private info(msg: unknown): unknown {
    if (this.impl.handleInfo === undefined) {
      const p = this.proc;
      p.node.logger.warn('GenServer has no handleInfo; message dropped', { pid: p.self.toString(), behaviour: this.name, msg: formatReason(msg) });
      return undefined;
    }
    return this.dispatch(Kind.Info, msg, null);
  }

  private system(req: SysRequest, from: From): unknown {
    const node = this.proc.node;
    switch (req.$sys) {
      case 'get_state':
        // A system message: it does not cancel an idle timeout (handle_event_timeout_plain).
        node.reply(from, this.proc.state);
        this.afterSystem();
        return undefined;
      case 'stop':
        return this.stop(req.reason, () => node.reply(from, 'ok'));
      case 'suspend':
        // OTP's sys:suspend: only system messages are handled until resume.
        this.held ??= [];
        node.reply(from, 'ok');
        return undefined;
      case 'resume':
        this.unhold();
        node.reply(from, 'ok');
        return undefined;
      default:
        node.reply(from, { error: 'unknown_system_msg' });
        this.afterSystem();
        return undefined;
    }
  }

  /** Puts the messages held while suspended back in front of the mailbox, in their order. */
  private unhold(): void {
    const held = this.held;
    if (held === null) return;
    this.held = null;
    const p = this.proc;
    if (held.length === 0) return;
    const mbox = p.mbox!;
    const rest = mbox.toArray();
    mbox.clear();
    for (const m of held) mbox.push(m);
    for (const m of rest) mbox.push(m);
  }

  /** As OTP's loop after a system message: a pending `timeout: 0` fires once the mailbox is empty. */
  private afterSystem(): void {
    const p = this.proc;
    if (this.zeroPending && (p.mbox === null || p.mbox.length === 0)) {
      this.zeroPending = false;
      p.deliver(new IdleTick(this.gen));
    }
  }

  /** Runs one callback; a switch rather than a closure keeps the per-message path allocation-free. */
  private dispatch(kind: Kind, a: unknown, from: From | null): unknown {
    const impl = this.impl;
    const p = this.proc;
    let r: unknown;
    try {
      switch (kind) {
        case Kind.Call:
          r = impl.handleCall!(a, from!, p.state, p);
          break;
        case Kind.Cast:
          r = impl.handleCast!(a, p.state, p);
          break;
        case Kind.Info:
          r = impl.handleInfo!(a, p.state, p);
          break;
        default:
          r = impl.handleContinue!(a, p.state, p);
      }
    } catch (e) {
      return this.crash(e);
    }
    if (isThenable(r)) {
      return Promise.resolve(r).then(
        (v) => this.result(kind, v, from),
        (e) => this.crash(e),
      );
    }
    return this.result(kind, r, from);
  }

  private crash(e: unknown): unknown {
    if (!this.proc.alive) return undefined;
    return this.stop(reasonFromThrown(e));
  }

  private result(kind: Kind, r: unknown, from: From | null): unknown {
    const p = this.proc;
    if (!p.alive) return undefined; // killed while an async callback ran: its result is ignored (the exit already happened)
    if (typeof r !== 'object' || r === null) return this.stop({ bad_return_value: r });
    const o = r as Record<string, unknown>;
    if ('stop' in o) {
      if ('reply' in o) {
        if (kind !== Kind.Call) return this.stop({ bad_return_value: r });
        this.reply(from!, o.reply); // the reply goes out before terminate runs
      }
      if ('state' in o) p.state = o.state;
      return this.stop(o.stop);
    }
    if ('reply' in o && 'state' in o && kind === Kind.Call) {
      this.reply(from!, o.reply);
      p.state = o.state;
    } else if ('noreply' in o) {
      p.state = o.noreply;
    } else {
      return this.stop({ bad_return_value: r });
    }
    return this.action(o);
  }

  /** A callback's reply; a traced server (sys) records it as an outgoing message. */
  private reply(from: From, value: unknown): void {
    const p = this.proc;
    if (p.hook !== null) p.hook.out(from.pid ?? from.node, { reply: value });
    p.node.reply(from, value);
  }

  /** `continue` runs at once, before any queued message; `timeout` arms the idle timer. */
  private action(o: Record<string, unknown>): unknown {
    const cont = o.continue;
    if (cont !== undefined) {
      if (o.timeout !== undefined) return this.stop({ bad_return_value: o });
      if (this.impl.handleContinue === undefined) return this.stop({ undef: 'handleContinue' });
      return this.dispatch(Kind.Continue, cont, null);
    }
    const t = o.timeout;
    if (t === undefined) return undefined;
    let ms: unknown;
    let msg: unknown;
    if (typeof t === 'number') {
      ms = t;
      msg = IDLE_TIMEOUT;
    } else if (typeof t === 'object' && t !== null && 'after' in t) {
      ms = (t as { after: unknown }).after;
      msg = (t as { msg?: unknown }).msg;
      // {timeout, 0, Msg}: handled before anything already queued (handle_event_timeout_zero).
      if (ms === 0) return this.info(msg);
    }
    if (typeof ms !== 'number' || !(ms === Infinity || (Number.isInteger(ms) && ms >= 0))) return this.stop({ bad_return_value: o });
    if (ms === Infinity) return undefined;
    const p = this.proc;
    this.armed = true;
    this.tickMsg = msg;
    const gen = ++this.gen;
    if (ms === 0) {
      // Plain `timeout: 0` fires only if nothing is waiting: any queued message cancels it.
      if (p.mbox === null || p.mbox.length === 0) p.deliver(new IdleTick(gen));
      else this.zeroPending = true;
      return undefined;
    }
    this.timerRef = p.sendAfter(ms, p.self, new IdleTick(gen));
    return undefined;
  }

  private cancelTimeout(): void {
    if (!this.armed) return;
    this.armed = false;
    this.zeroPending = false;
    this.gen++;
    if (this.timerRef !== null) {
      this.proc.cancelTimer(this.timerRef);
      this.timerRef = null;
    }
  }

  /** `terminate(reason, state)`, then exit with `reason`; a throw in terminate becomes the exit reason. */
  private stop(reason: ExitReason, beforeExit?: () => void): unknown {
    this.cancelTimeout();
    const p = this.proc;
    const terminate = this.impl.terminate;
    if (terminate === undefined) {
      beforeExit?.();
      return this.die(reason);
    }
    let r: unknown;
    try {
      r = terminate.call(this.impl, reason, p.state, p);
    } catch (e) {
      return this.die(reasonFromThrown(e));
    }
    if (isThenable(r)) {
      return Promise.resolve(r).then(
        () => {
          if (!p.alive) return;
          beforeExit?.();
          this.die(reason);
        },
        (e) => this.die(reasonFromThrown(e)),
      );
    }
    beforeExit?.();
    return this.die(reason);
  }

  private die(reason: ExitReason): undefined {
    // node.terminate logs the crash report for abnormal reasons; the loop adds none (no double log).
    this.proc.node.terminate(this.proc, reason);
    return undefined;
  }
}
