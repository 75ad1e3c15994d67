// gen_server_SUITE: crash, call, calling_self, cast, cast_fast, info, continue,
// handle_event_timeout(_zero/_plain), call_with_huge_message_queue,
// undef_*, reply_by_alias_with_payload; plus terminate on parent exit (§1.8 #56).
import { describe, expect, it } from 'vitest';
import { probe, testNode } from './helpers.js';
import { fromServer, isNote, recordingLogger, suiteServer } from './gen-server-fixtures.js';
import {
  CallExitError,
  CallTimeoutError,
  CallingSelfError,
  GenServer,
  Node,
  type GenServer as GS,
  isDownMessage,
  isExitMessage,
  isStarted,
  type GenStartResult,
  type Pid,
  type ReplyTo,
} from '../src/index.js';

function okPid(r: GenStartResult): Pid {
  if (!isStarted(r)) throw new Error(`start failed: ${JSON.stringify(r)}`);
  return r.ok;
}

async function exitReasonOf(p: Promise<unknown>): Promise<unknown> {
  const e = await p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CallExitError);
  return (e as CallExitError).reason;
}

describe('GenServer crash', () => {
  it('gen_server_SUITE:crash — shutdown reasons make no crash report; the linked starter and the caller see them', async () => {
    const logger = recordingLogger();
    const node = new Node({ name: 'crash@local', logger });
    const p = await probe(node, { trapExit: true });
    const cases: [string, unknown][] = [
      ['shutdown_reason', { shutdown: 'reason' }],
      ['stop_shutdown_reason', { shutdown: 'stop_reason' }],
      ['exit_shutdown', 'shutdown'],
      ['stop_shutdown', 'shutdown'],
    ];
    for (const [req, reason] of cases) {
      const pid = okPid(await GenServer.startLink(p.ctx, suiteServer, 'default'));
      expect(await exitReasonOf(GenServer.call(p.ctx, pid, req as 'stop_shutdown'))).toEqual(reason);
      expect(await p.next((m) => isExitMessage(m) && m.from.equals(pid))).toMatchObject({ reason });
    }
    expect(logger.entries.filter((e) => e.level === 'error')).toEqual([]);
  });

  it('gen_server_SUITE:crash — a crash gives exactly one crash report and the caller gets the reason', async () => {
    const logger = recordingLogger();
    const node = new Node({ name: 'crash@local', logger });
    const pid = okPid(await GenServer.start(node, suiteServer, 'default'));
    expect(await exitReasonOf(GenServer.call(node, pid, 'crash'))).toBe('crashed');
    const errors = logger.entries.filter((e) => e.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.data).toMatchObject({ pid: pid.toString(), behaviour: 'gen_server_SUITE', reason: 'crashed' });
    // a thrown Error keeps name and message in the reason
    const pid2 = okPid(await GenServer.start(node, suiteServer, 'default'));
    expect(await exitReasonOf(GenServer.call(node, pid2, 'throw'))).toMatchObject({ error: { name: 'Error', message: 'handle_call boom' } });
  });
});

describe('GenServer call', () => {
  it('gen_server_SUITE:call — reply, and deferred reply via reply/2 from the idle-timeout handler', async () => {
    const node = testNode();
    const pid = okPid(await GenServer.start(node, suiteServer, 'default', { name: 'my_test_name' }));
    expect(await GenServer.call(node, 'my_test_name', 'started_p')).toBe('ok');
    expect(await GenServer.call(node, 'my_test_name', { delayed_answer: 1 })).toBe('delayed');
    expect(await GenServer.call(node, pid, { delayed_answer: 1 }, 1000)).toBe('delayed');
  });

  it('gen_server_SUITE:call — call_within: a request inside the idle timeout cancels it; after it fired the state changed', async () => {
    const node = testNode();
    const pid = okPid(await GenServer.start(node, suiteServer, 'default'));
    expect(await GenServer.call(node, pid, { call_within: 1000 })).toBe('ok');
    expect(await GenServer.call(node, pid, 'next_call')).toBe('ok');
    expect(await GenServer.call(node, pid, { call_within: 5 })).toBe('ok');
    // wait (bounded) until the timeout fired and reset the state, observed through a system request
    const end = Date.now() + 2000;
    while ((await GenServer.getState(node, pid)) === 'call_within') {
      if (Date.now() > end) throw new Error('idle timeout never fired');
      await new Promise((r) => setImmediate(r));
    }
    expect(await GenServer.call(node, pid, 'next_call')).toBe(false);
  });

  it('gen_server_SUITE:call — per-call timeout rejects CallTimeoutError; the server lives on', async () => {
    const node = testNode();
    const p = await probe(node);
    const pid = okPid(await GenServer.start(node, suiteServer, 'default'));
    expect(await GenServer.call(p.ctx, pid, { delayed_answer: 1 }, 500)).toBe('delayed');
    const err = await GenServer.call(p.ctx, pid, { delayed_answer: 30 }, 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CallTimeoutError);
    expect(await GenServer.call(p.ctx, pid, 'ping')).toBe('pong');
    expect(node.mailboxOf(p.pid)).toEqual([]);
    expect(node.stats().pendingCalls).toBe(0);
  });

  it('gen_server_SUITE:call — a reply sent after the caller timed out is dropped: the server lives on, the caller’s mailbox is untouched', async () => {
    const node = testNode();
    const caller = await probe(node);
    const witness = await probe(node);
    // Holds each call until told to answer it; then tells the witness it has replied.
    const holder: GS<{ from: ReplyTo<string> | null }, 'hold' | 'ping', never, string, unknown, null> = {
      init: () => ({ ok: { from: null } }),
      handleCall: (req, from, state) => (req === 'hold' ? { noreply: { from } } : { reply: 'pong', state }),
      handleInfo(msg, state, ctx) {
        if (msg === 'answer' && state.from !== null) {
          GenServer.reply(ctx, state.from, 'late');
          ctx.send(witness.pid, 'replied');
        }
        return { noreply: { from: null } };
      },
    };
    const pid = okPid(await GenServer.start(node, holder, null));
    const err = await GenServer.call(caller.ctx, pid, 'hold', 20).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CallTimeoutError);
    expect(node.stats().pendingCalls).toBe(0);
    node.send(pid, 'answer');
    expect(await witness.next()).toBe('replied'); // the late reply has gone out
    expect(node.isAlive(pid)).toBe(true);
    expect(node.mailboxOf(caller.pid)).toEqual([]);
    expect(await GenServer.call(caller.ctx, pid, 'ping')).toBe('pong');
    expect(node.mailboxOf(caller.pid)).toEqual([]);
  });

  it('gen_server_SUITE:call — a bad return value exits the server with {bad_return_value} and the caller gets it', async () => {
    const node = testNode();
    const pid = okPid(await GenServer.start(node, suiteServer, 'default'));
    expect(await exitReasonOf(GenServer.call(node, pid, 'badreturn'))).toEqual({ bad_return_value: 'badreturn' });
    expect(node.isAlive(pid)).toBe(false);
  });

  it('gen_server_SUITE:calling_self — a process or a server calling itself fails at once', async () => {
    const node = testNode();
    const p = await probe(node);
    await expect(GenServer.call(p.ctx, p.pid, 'oops')).rejects.toBeInstanceOf(CallingSelfError);
    await expect(GenServer.call(p.ctx, p.pid, 'oops', Infinity)).rejects.toBeInstanceOf(CallingSelfError);
    const pid = okPid(
      await GenServer.start(
        node,
        {
          init: () => ({ ok: null }),
          async handleCall(_req: 'self', _from, state, ctx) {
            const e = await GenServer.call(ctx, ctx.self, 'again').catch((x: unknown) => x);
            return { reply: e instanceof CallingSelfError, state };
          },
        },
        undefined,
      ),
    );
    expect(await GenServer.call(node, pid, 'self')).toBe(true);
  });

  it('gen_server_SUITE:call — an async handleCall suspends only its own server', async () => {
    const node = testNode();
    let release!: (v: string) => void;
    const gate = new Promise<string>((r) => (release = r));
    const a = okPid(await GenServer.start(node, suiteServer, 'default'));
    const b = okPid(await GenServer.start(node, suiteServer, 'default'));
    const pending = GenServer.call(node, a, { async_reply: gate });
    const queued = GenServer.call(node, a, 'ping');
    expect(await GenServer.call(node, b, 'ping')).toBe('pong');
    expect(node.processInfo(a)).toMatchObject({ status: 'suspended', mailbox: 1 });
    release('later');
    expect(await pending).toBe('later');
    expect(await queued).toBe('pong');
  });

  it('gen_server_SUITE:call_with_huge_message_queue — a reply never scans the caller\'s 100k-message mailbox', async () => {
    const node = testNode();
    const p = await probe(node);
    const pid = okPid(await GenServer.start(node, suiteServer, 'default'));
    const N = 100_000;
    for (let i = 0; i < N; i++) p.ctx.send(p.pid, { filler: i });
    expect(node.processInfo(p.pid)!.mailbox).toBe(N);
    for (let i = 0; i < 100; i++) expect(await GenServer.call(p.ctx, pid, 'ping')).toBe('pong');
    const info = node.processInfo(p.pid)!;
    expect(info.mailbox).toBe(N); // untouched: no reply went through it
    expect(info.handled).toBe(0);
    const box = node.mailboxOf(p.pid);
    expect(box[0]).toEqual({ filler: 0 });
    expect(box[N - 1]).toEqual({ filler: N - 1 });
  });

  it('gen_server_SUITE:reply_by_alias_with_payload — reply works with a copied From, from another process, exactly once', async () => {
    const node = testNode();
    const helper = await probe(node);
    const pid = okPid(
      await GenServer.start(
        node,
        {
          init: () => ({ ok: null }),
          handleCall(_req: 'get', from, state, ctx) {
            ctx.send(helper.pid, structuredClone({ from: { node: from.node, tag: from.tag, pid: null } }));
            return { noreply: state };
          },
        },
        undefined,
      ),
    );
    const payload = { nested: [1, { deep: 'x' }], none: null };
    const call = GenServer.call(node, pid, 'get');
    const m = await helper.next<{ from: ReplyTo }>();
    GenServer.reply(helper.ctx, m.from, payload);
    GenServer.reply(helper.ctx, m.from, 'second reply is dropped');
    expect(await call).toEqual(payload);
  });
});

describe('GenServer cast and info', () => {
  it('gen_server_SUITE:cast — handle_cast, delayed cast through the idle timeout, stop from handleCast', async () => {
    const node = testNode();
    const p = await probe(node);
    const pid = okPid(await GenServer.start(node, suiteServer, 'default', { name: 'my_test_name' }));
    const ref = p.ctx.monitor(pid);
    GenServer.cast(p.ctx, 'my_test_name', { from: p.pid, op: 'handle_cast' });
    await p.next(fromServer(pid, 'handled_cast'));
    GenServer.cast(p.ctx, 'my_test_name', { from: p.pid, op: 'delayed_cast', t: 1 });
    await p.next(fromServer(pid, 'delayed'));
    GenServer.cast(p.ctx, 'my_test_name', { from: p.pid, op: 'stop' });
    expect(await p.next(isDownMessage)).toMatchObject({ ref, reason: { from: p.pid, reason: 'stopped' } });
  });

  it('gen_server_SUITE:cast/cast_fast — cast never fails or blocks: dead pid, unknown name, unknown node, via', async () => {
    const node = testNode();
    const pid = okPid(await GenServer.start(node, suiteServer, 'default'));
    await GenServer.stop(node, pid);
    const via = { via: { registerName: () => true, unregisterName() {}, whereisName: () => undefined, send() { throw new Error('none'); } }, name: 'x' };
    expect(GenServer.cast(node, pid, 'x')).toBeUndefined();
    expect(GenServer.cast(node, 'no_such_name', 'x')).toBeUndefined();
    expect(GenServer.cast(node, { name: 'hopp', node: 'hopp@nowhere' }, 'x')).toBeUndefined();
    expect(GenServer.cast(node, via, 'x')).toBeUndefined();
  });

  it('gen_server_SUITE:info — other messages go to handleInfo; {stop} from handleInfo runs terminate', async () => {
    const node = testNode();
    const p = await probe(node);
    const pid = okPid(await GenServer.start(node, suiteServer, 'default'));
    const ref = p.ctx.monitor(pid);
    node.send(pid, { from: p.pid, op: 'handle_info' });
    await p.next(fromServer(pid, 'handled_info'));
    node.send(pid, { from: p.pid, op: 'delayed_info', t: 1 });
    await p.next(fromServer(pid, 'delayed_info'));
    node.send(pid, { from: p.pid, op: 'stop' });
    expect(await p.next(isDownMessage)).toMatchObject({ ref, reason: { from: p.pid, reason: 'stopped_info' } });
  });

  it('terminate on parent exit — a trapping server runs terminate(reason) on its parent\'s exit signal; other EXITs go to handleInfo', async () => {
    const node = testNode();
    const watcher = await probe(node);
    const other = await probe(node);
    let serverPid!: Pid;
    const parent = node.spawn(async (ctx) => {
      const r = await GenServer.startLink(ctx, suiteServer, { notify: watcher.pid }, { spawn: { trapExit: true } });
      serverPid = okPid(r);
      ctx.send(watcher.pid, 'started');
      await ctx.receive((m) => m === 'die');
      ctx.exit('parent_gone');
    });
    await watcher.next((m) => m === 'started');
    other.ctx.link(serverPid);
    node.exit(other.pid, 'other_gone'); // a linked non-parent dies: EXIT message to handleInfo
    expect(await watcher.next(isNote('info'))).toMatchObject({ data: { type: 'EXIT', from: other.pid, reason: 'other_gone' } });
    expect(node.isAlive(serverPid)).toBe(true);
    node.send(parent, 'die');
    expect(await watcher.next(isNote('terminate'))).toMatchObject({ server: serverPid, data: 'parent_gone' });
    expect(node.isAlive(serverPid)).toBe(false);
  });

  it('terminate on parent exit — not called without trap-exit, and never on kill', async () => {
    const node = testNode();
    const watcher = await probe(node);
    const a = okPid(await GenServer.start(node, suiteServer, { notify: watcher.pid }));
    const b = okPid(await GenServer.start(node, suiteServer, { notify: watcher.pid }, { spawn: { trapExit: true } }));
    const ra = watcher.ctx.monitor(a);
    const rb = watcher.ctx.monitor(b);
    node.exit(a, 'shutdown');
    node.exit(b, 'kill');
    expect(await watcher.next((m) => isDownMessage(m) && m.ref.equals(ra))).toMatchObject({ reason: 'shutdown' });
    expect(await watcher.next((m) => isDownMessage(m) && m.ref.equals(rb))).toMatchObject({ reason: 'killed' });
    expect(await watcher.none(isNote('terminate'), 20)).toBe(true);
  });
});

describe('GenServer continue and timeouts', () => {
  it('gen_server_SUITE:continue — from init, call, cast and info, continue runs before the already-queued message', async () => {
    const node = testNode();
    const p = await probe(node);
    const inOrder = async (pid: Pid): Promise<void> => {
      await p.next(fromServer(pid, 'continue'));
      await p.next(fromServer(pid, 'after_continue'));
      await p.next(fromServer(pid, 'ack'));
      expect(node.mailboxOf(p.pid)).toEqual([]);
    };
    const pid = okPid(await GenServer.start(node, suiteServer, { continue: p.pid }));
    await inOrder(pid);
    expect(await GenServer.call(node, pid, { continue_reply: p.pid })).toBe('ok');
    await inOrder(pid);
    expect(await GenServer.call(node, pid, { continue_noreply: p.pid })).toBe('ok'); // replied from handleContinue
    await inOrder(pid);
    GenServer.cast(node, pid, { continue_noreply: p.pid });
    await inOrder(pid);
    node.send(pid, { continue_noreply: p.pid });
    await inOrder(pid);
    node.send(pid, { continue_continue: p.pid }); // continue chaining into continue
    await p.next(fromServer(pid, 'continue'));
    const ref = p.ctx.monitor(pid);
    node.send(pid, { op: 'continue_stop' });
    expect(await p.next(isDownMessage)).toMatchObject({ ref, reason: 'normal' });
  });

  it('gen_server_SUITE:continue — strict order: the continue message precedes the queued one', async () => {
    const node = testNode();
    const p = await probe(node);
    const pid = okPid(await GenServer.start(node, suiteServer, { continue: p.pid }));
    await GenServer.call(node, pid, 'ping'); // all three messages are now in the probe's mailbox
    expect(node.mailboxOf(p.pid)).toEqual([
      { from: pid, msg: 'continue' },
      { from: pid, msg: 'after_continue' },
      { from: pid, msg: 'ack' },
    ]);
  });

  it('gen_server_SUITE:handle_event_timeout — fires when idle after call, cast and info; a message cancels it', async () => {
    const node = testNode();
    const p = await probe(node);
    const pid = okPid(await GenServer.start(node, suiteServer, 'default'));
    const fire = fromServer(pid, 'event_timeout');
    expect(await GenServer.call(node, pid, { timeout: 20, to: p.pid })).toBe('ok');
    await p.next(fire);
    GenServer.cast(node, pid, { timeout: 20, to: p.pid });
    await p.next(fire);
    node.send(pid, { timeout: 20, to: p.pid });
    // a raw message with `timeout` goes to handleInfo, which here does not arm anything: nothing fires
    expect(await p.none(fire, 60)).toBe(true);
    // interrupted: a call before the timeout cancels it
    expect(await GenServer.call(node, pid, { timeout: 50, to: p.pid })).toBe('ok');
    expect(await GenServer.call(node, pid, 'ping')).toBe('pong');
    expect(await p.none(fire, 120)).toBe(true);
  });

  it('gen_server_SUITE:handle_event_timeout_zero — {after: 0} is handled before a message already queued (init, call, cast)', async () => {
    const node = testNode();
    const p = await probe(node);
    const pid = okPid(await GenServer.start(node, suiteServer, { timeoutZero: p.pid }));
    await GenServer.call(node, pid, 'ping');
    expect(node.mailboxOf(p.pid)).toEqual([
      { from: pid, msg: 'event_timeout' },
      { from: pid, msg: 'after_event_timeout_zero' },
    ]);
    await p.next(fromServer(pid, 'after_event_timeout_zero'));
    await GenServer.call(node, pid, { timeoutZero: p.pid });
    GenServer.cast(node, pid, { timeoutZero: p.pid });
    await GenServer.call(node, pid, 'ping');
    expect(node.mailboxOf(p.pid).slice(-4)).toEqual([
      { from: pid, msg: 'event_timeout' },
      { from: pid, msg: 'after_event_timeout_zero' },
      { from: pid, msg: 'event_timeout' },
      { from: pid, msg: 'after_event_timeout_zero' },
    ]);
  });

  it('gen_server_SUITE:handle_event_timeout_plain — a system request does not cancel the idle timeout; a request does', async () => {
    const node = testNode();
    const p = await probe(node);
    const pid = okPid(await GenServer.start(node, suiteServer, 'default'));
    GenServer.cast(node, pid, { from: p.pid, op: 'delayed_cast', t: 40 });
    expect(await GenServer.getState(node, pid)).toEqual({ delayed_cast: p.pid });
    await p.next(fromServer(pid, 'delayed'));
    GenServer.cast(node, pid, { from: p.pid, op: 'delayed_cast', t: 40 });
    expect(await GenServer.call(node, pid, 'ping')).toBe('pong');
    expect(await p.none(fromServer(pid, 'delayed'), 120)).toBe(true);
  });

  it('gen_server_SUITE:handle_event_timeout_plain — timeout 0 fires only when the mailbox is empty', async () => {
    const node = testNode();
    const fired: string[] = [];
    const pid = okPid(
      await GenServer.start(
        node,
        {
          init: () => ({ ok: 0 }),
          handleCast(req: 'zero' | 'other', n) {
            fired.push(req);
            return req === 'zero' ? { noreply: n, timeout: 0 } : { noreply: n };
          },
          handleInfo(msg, n) {
            fired.push(String(msg));
            return { noreply: n };
          },
        },
        undefined,
      ),
    );
    GenServer.cast(node, pid, 'zero');
    GenServer.cast(node, pid, 'other'); // already queued when the timeout is set: cancels it
    await GenServer.getState(node, pid);
    // queued behind it only a system request: that does not cancel it, so it fires once the mailbox is empty
    GenServer.cast(node, pid, 'zero');
    await GenServer.getState(node, pid);
    expect(fired).toEqual(['zero', 'other', 'zero', 'timeout']);
  });
});

describe('GenServer missing callbacks (undef_*)', () => {
  it('gen_server_SUITE:undef_handle_call / undef_handle_cast / undef_handle_continue — the server crashes', async () => {
    const node = testNode();
    const bare = { init: (c: boolean) => (c ? { ok: null, continue: 'go' } : { ok: null }) };
    const a = okPid(await GenServer.start(node, bare, false));
    expect(await exitReasonOf(GenServer.call(node, a, 'x'))).toEqual({ undef: 'handleCall' });
    const p = await probe(node);
    const b = okPid(await GenServer.start(node, bare, false));
    const rb = p.ctx.monitor(b);
    GenServer.cast(node, b, 'x');
    expect(await p.next(isDownMessage)).toMatchObject({ ref: rb, reason: { undef: 'handleCast' } });
    expect(await GenServer.start(node, bare, true)).toMatchObject({ ok: expect.anything() });
    await expect(GenServer.start(node, {} as typeof bare, false)).resolves.toEqual({ error: { undef: 'init' } });
  });

  it('gen_server_SUITE:undef_handle_info / undef_terminate — a warning, and the server keeps running; no terminate is fine', async () => {
    const logger = recordingLogger();
    const node = new Node({ name: 'undef@local', logger });
    const pid = okPid(await GenServer.start(node, { init: () => ({ ok: 1 }), handleCall: (_r: 'get', _f, s) => ({ reply: s, state: s }) }, undefined));
    node.send(pid, 'stray');
    expect(await GenServer.call(node, pid, 'get')).toBe(1);
    expect(logger.entries.filter((e) => e.level === 'warn')).toMatchObject([{ data: { pid: pid.toString(), msg: 'stray' } }]);
    await GenServer.stop(node, pid);
    expect(node.isAlive(pid)).toBe(false);
  });
});
