// The gen_server under test, ported from gen_server_SUITE's own callback
// module, plus a tiny `via` registry (the suite's dummy_via) and a logger
// that records what it is given.
import {
  GenServer,
  isPid,
  type ExitReason,
  type Logger,
  type Node,
  type Pid,
  type ReplyTo,
  type ViaRegistry,
} from '../src/index.js';

export type SuiteArgs =
  | 'default'
  | 'ignore'
  | 'stop'
  | 'hang'
  | 'throw'
  | 'exit'
  | 'bad'
  | { error: unknown }
  | { state: unknown }
  | { continue: Pid }
  | { timeoutZero: Pid }
  | { async: SuiteArgs }
  | { notify: Pid };

export type SuiteCall =
  | 'started_p'
  | 'ping'
  | 'stop'
  | 'crash'
  | 'exit_shutdown'
  | 'stop_shutdown'
  | 'shutdown_reason'
  | 'stop_shutdown_reason'
  | 'badreturn'
  | 'next_call'
  | 'throw'
  | { delayed_answer: number }
  | { call_within: number }
  | { continue_reply: Pid }
  | { continue_noreply: Pid }
  | { timeout: number; to: Pid }
  | { timeoutZero: Pid }
  | { async_reply: Promise<unknown> };

export type SuiteCast =
  | { from: Pid; op: 'handle_cast' }
  | { from: Pid; op: 'delayed_cast'; t: number }
  | { from: Pid; op: 'stop' }
  | { continue_noreply: Pid }
  | { timeout: number; to: Pid }
  | { timeoutZero: Pid };

export type SuiteCont = { message: Pid; from?: ReplyTo } | { continue: Pid } | 'stop';

type State = unknown;

/** What the fixture tells its notify pid (`{ notify }` args) about its life. */
export interface Note {
  server: Pid;
  event: string;
  data?: unknown;
}

function note(ctx: { self: Pid; send(to: Pid, m: unknown): void }, to: Pid | undefined, event: string, data?: unknown): void {
  if (to !== undefined) ctx.send(to, { server: ctx.self, event, data } satisfies Note);
}

interface Box {
  notify?: Pid;
  inner: State;
}

function isBox(s: unknown): s is Box {
  return typeof s === 'object' && s !== null && 'inner' in s;
}

function initOf(args: SuiteArgs, ctx: { self: Pid; send(to: Pid, m: unknown): void; exit(r: ExitReason): never }): unknown {
  if (args === 'default') return { ok: [] };
  if (args === 'ignore') return 'ignore';
  if (args === 'stop') return { stop: 'stopped' };
  if (args === 'hang') return new Promise(() => {}); // init that never finishes (the suite's `sleep`)
  if (args === 'throw') throw new Error('init boom');
  if (args === 'exit') ctx.exit('init_exit');
  if (args === 'bad') return 42;
  if ('error' in args) return { error: args.error };
  if ('state' in args) return { ok: args.state };
  if ('continue' in args) {
    ctx.send(ctx.self, { after_continue: args.continue });
    return { ok: [], continue: { message: args.continue } };
  }
  if ('timeoutZero' in args) {
    ctx.send(ctx.self, { after_event_timeout_zero: args.timeoutZero });
    return { ok: [], timeout: { after: 0, msg: { event_timeout: args.timeoutZero } } };
  }
  if ('async' in args) return Promise.resolve().then(() => initOf(args.async, ctx));
  return { ok: { notify: args.notify, inner: [] } satisfies Box };
}

/** The suite's callback module. `terminate` reports to the notify pid when the state has one. */
export const suiteServer: GenServer<State, SuiteCall, SuiteCast, unknown, unknown, SuiteArgs, SuiteCont> = {
  name: 'gen_server_SUITE',
  init(args, ctx) {
    return initOf(args, ctx) as ReturnType<GenServer<State, SuiteCall, SuiteCast, unknown, unknown, SuiteArgs, SuiteCont>['init']>;
  },
  handleCall(req, from, state, ctx) {
    if (req === 'started_p') return { reply: 'ok', state };
    if (req === 'ping') return { reply: 'pong', state };
    if (req === 'stop') return { stop: 'stopped', reply: 'ok', state };
    if (req === 'crash') return ctx.exit('crashed');
    if (req === 'throw') throw new Error('handle_call boom');
    if (req === 'exit_shutdown') return ctx.exit('shutdown');
    if (req === 'stop_shutdown') return { stop: 'shutdown', state };
    if (req === 'shutdown_reason') return ctx.exit({ shutdown: 'reason' });
    if (req === 'stop_shutdown_reason') return { stop: { shutdown: 'stop_reason' }, state };
    if (req === 'badreturn') return 'badreturn' as never;
    if (req === 'next_call') return state === 'call_within' ? { reply: 'ok', state: [] } : { reply: false, state };
    if ('delayed_answer' in req) return { noreply: { reply_to: from, state }, timeout: req.delayed_answer };
    if ('call_within' in req) return { reply: 'ok', state: 'call_within', timeout: req.call_within };
    if ('continue_reply' in req) {
      ctx.send(ctx.self, { after_continue: req.continue_reply });
      return { reply: 'ok', state, continue: { message: req.continue_reply } };
    }
    if ('continue_noreply' in req) {
      ctx.send(ctx.self, { after_continue: req.continue_noreply });
      return { noreply: state, continue: { message: req.continue_noreply, from } };
    }
    if ('timeout' in req) return { reply: 'ok', state, timeout: { after: req.timeout, msg: { event_timeout: req.to } } };
    if ('timeoutZero' in req) {
      ctx.send(ctx.self, { after_event_timeout_zero: req.timeoutZero });
      return { reply: 'ok', state, timeout: { after: 0, msg: { event_timeout: req.timeoutZero } } };
    }
    return req.async_reply.then((v) => ({ reply: v, state }));
  },
  handleCast(req, state, ctx) {
    if ('continue_noreply' in req) {
      ctx.send(ctx.self, { after_continue: req.continue_noreply });
      return { noreply: state, continue: { message: req.continue_noreply } };
    }
    if ('timeout' in req) return { noreply: state, timeout: { after: req.timeout, msg: { event_timeout: req.to } } };
    if ('timeoutZero' in req) {
      ctx.send(ctx.self, { after_event_timeout_zero: req.timeoutZero });
      return { noreply: state, timeout: { after: 0, msg: { event_timeout: req.timeoutZero } } };
    }
    if (req.op === 'handle_cast') {
      ctx.send(req.from, { from: ctx.self, msg: 'handled_cast' });
      return { noreply: state };
    }
    if (req.op === 'delayed_cast') return { noreply: { delayed_cast: req.from }, timeout: req.t };
    return { stop: { from: req.from, reason: 'stopped' }, state };
  },
  handleInfo(msg, state, ctx) {
    const m = msg as Record<string, unknown> | string;
    if (m === 'timeout') {
      const s = state as Record<string, unknown> | string;
      if (typeof s === 'object' && s !== null && 'reply_to' in s) {
        GenServer.reply(ctx, s.reply_to as ReplyTo, 'delayed');
        return { noreply: s.state };
      }
      if (s === 'call_within') return { noreply: [] };
      if (typeof s === 'object' && s !== null && 'delayed_cast' in s) {
        ctx.send(s.delayed_cast as Pid, { from: ctx.self, msg: 'delayed' });
        return { noreply: [] };
      }
      if (typeof s === 'object' && s !== null && 'delayed_info' in s) {
        ctx.send(s.delayed_info as Pid, { from: ctx.self, msg: 'delayed_info' });
        return { noreply: [] };
      }
      if (isBox(s)) note(ctx, s.notify, 'timeout');
      return { noreply: state };
    }
    if (typeof m === 'object' && m !== null) {
      if ('event_timeout' in m) ctx.send(m.event_timeout as Pid, { from: ctx.self, msg: 'event_timeout' });
      else if ('after_event_timeout_zero' in m) ctx.send(m.after_event_timeout_zero as Pid, { from: ctx.self, msg: 'after_event_timeout_zero' });
      else if ('after_continue' in m) {
        ctx.send(m.after_continue as Pid, { from: ctx.self, msg: 'after_continue' });
        ctx.send(m.after_continue as Pid, { from: ctx.self, msg: 'ack' });
      } else if ('continue_noreply' in m) {
        ctx.send(ctx.self, { after_continue: m.continue_noreply });
        return { noreply: state, continue: { message: m.continue_noreply as Pid } };
      } else if ('continue_continue' in m) {
        return { noreply: state, continue: { continue: m.continue_continue as Pid } };
      } else if (m.op === 'handle_info') ctx.send(m.from as Pid, { from: ctx.self, msg: 'handled_info' });
      else if (m.op === 'delayed_info') return { noreply: { delayed_info: m.from }, timeout: m.t as number };
      else if (m.op === 'stop') return { stop: { from: m.from, reason: 'stopped_info' }, state };
      else if (m.op === 'continue_stop') return { noreply: state, continue: 'stop' };
      else if (isBox(state)) note(ctx, state.notify, 'info', m);
    }
    return { noreply: state };
  },
  handleContinue(cont, state, ctx) {
    if (cont === 'stop') return { stop: 'normal', state };
    if ('continue' in cont) return { noreply: state, continue: { message: cont.continue } };
    ctx.send(cont.message, { from: ctx.self, msg: 'continue' });
    if (cont.from !== undefined) GenServer.reply(ctx, cont.from, 'ok');
    return { noreply: state };
  },
  terminate(reason, state, ctx) {
    if (isBox(state)) note(ctx, state.notify, 'terminate', reason);
  },
};

/** The suite's `dummy_via`: a name table whose entries die with their process. */
export class TestVia implements ViaRegistry<string> {
  readonly names = new Map<string, Pid>();
  constructor(private readonly node: Node) {
    node.events.on('exit', ({ pid }) => {
      for (const [n, p] of this.names) if (p.equals(pid)) this.names.delete(n);
    });
  }
  registerName(name: string, pid: Pid): boolean {
    if (this.names.has(name)) return false;
    this.names.set(name, pid);
    return true;
  }
  unregisterName(name: string): void {
    this.names.delete(name);
  }
  whereisName(name: string): Pid | undefined {
    return this.names.get(name);
  }
  send(name: string, msg: unknown): void {
    const pid = this.names.get(name);
    if (pid === undefined) throw new Error(`no process registered via '${name}'`);
    this.node.send(pid, msg);
  }
}

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  data?: Record<string, unknown>;
}

/** A logger that keeps its entries, for "a crash report / no crash report" assertions. */
export function recordingLogger(): Logger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const rec = (level: LogEntry['level']) => (msg: string, data?: Record<string, unknown>) => {
    entries.push(data === undefined ? { level, msg } : { level, msg, data });
  };
  return { entries, debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') };
}

/** A message `{ from: server, msg }` as the fixture sends them. */
export function fromServer(server: Pid, msg: string): (m: unknown) => boolean {
  return (m) => typeof m === 'object' && m !== null && isPid((m as { from?: unknown }).from) && (m as { from: Pid }).from.equals(server) && (m as { msg?: unknown }).msg === msg;
}

export function isNote(event: string): (m: unknown) => m is Note {
  return (m): m is Note => typeof m === 'object' && m !== null && (m as Note).event === event;
}
