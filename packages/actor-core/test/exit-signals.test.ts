import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downFor, exitFrom, exitOf, probe, recorder, sleeper, testNode, until } from './helpers.js';
import { isExitMessage, type ExitMessage, type DownMessage, type Node, type Pid, type ProcessContext } from '../src/index.js';

/** An echo behaviour: replies `['pong', tag]` to `{ from, tag }`. */
function echo(node: Node, opts: { trapExit?: boolean; name?: string } = {}): Pid {
  return node.spawn<{ from: Pid; tag: unknown }>(
    {
      handle(m, ctx) {
        if (m !== null && typeof m === 'object' && 'from' in m) ctx.send(m.from, ['pong', m.tag]);
      },
    },
    opts,
  );
}

const isPong = (tag: unknown) => (m: unknown) => Array.isArray(m) && m[0] === 'pong' && m[1] === tag;

/** Fails the test if anything escapes as an unhandled rejection or uncaught exception. */
let escaped: unknown[] = [];
const onEscape = (e: unknown): void => {
  escaped.push(e);
};
beforeEach(() => {
  escaped = [];
  process.on('unhandledRejection', onEscape);
  process.on('uncaughtException', onEscape);
});
afterEach(() => {
  process.off('unhandledRejection', onEscape);
  process.off('uncaughtException', onEscape);
  expect(escaped).toEqual([]);
});

describe('process_SUITE (2.A rows 1-9)', () => {
  it('process_SUITE:t_exit_1 — exit(Term) with a large term reaches a trapping linker intact', async () => {
    const node = testNode();
    const p = await probe(node, { trapExit: true });
    const big = { tag: 'big', list: Array.from({ length: 50_000 }, (_, i) => ({ i, s: `x${i}` })), nested: { deep: [[[1, 2, 3]]] } };
    const child = p.ctx.spawnLink(async (ctx) => {
      ctx.exit(big);
    });
    const m = await p.next<ExitMessage>(exitFrom(child));
    expect(m.reason).toEqual(big);
    expect(m.reason).toBe(big);
  });

  it('process_SUITE:t_exit_2_other — exit(P, Term) kills a non-trapping target; its linker sees the same Term', async () => {
    const node = testNode();
    const watcher = await probe(node, { trapExit: true });
    const target = watcher.ctx.spawnLink(async (ctx) => {
      await ctx.receive(() => false);
    });
    const killer = await probe(node);
    killer.ctx.exit(target, { custom: ['reason', 42] });
    const m = await watcher.next<ExitMessage>(exitFrom(target));
    expect(m.reason).toEqual({ custom: ['reason', 42] });
    expect(node.isAlive(target)).toBe(false);
    expect(node.isAlive(killer.pid)).toBe(true);
  });

  it('process_SUITE:t_exit_2_other_normal — exit(P, normal) does not kill a non-trapping target', async () => {
    const node = testNode();
    const p = await probe(node);
    const target = echo(node);
    p.ctx.exit(target, 'normal');
    node.exit(target, 'normal');
    expect(node.isAlive(target)).toBe(true);
    node.send(target, { from: p.pid, tag: 1 });
    await p.next(isPong(1));
    expect(node.isAlive(target)).toBe(true);
  });

  it('Appendix A — exit(P, normal) to a trapping target arrives as {EXIT, From, normal}', async () => {
    const node = testNode();
    const sender = await probe(node);
    const target = recorder(node, { trapExit: true });
    sender.ctx.exit(target.pid, 'normal');
    await until(() => target.msgs.length === 1);
    expect(target.msgs[0]).toEqual({ type: 'EXIT', from: sender.pid, reason: 'normal' });
    expect(node.isAlive(target.pid)).toBe(true);
  });

  it('process_SUITE:self_exit — exit(self(), Term) while trapping becomes {EXIT, Self, Term}', async () => {
    const node = testNode();
    const p = await probe(node, { trapExit: true });
    p.ctx.exit(p.pid, 'die');
    const m = await p.next<ExitMessage>(isExitMessage);
    expect(m).toEqual({ type: 'EXIT', from: p.pid, reason: 'die' });
    expect(node.isAlive(p.pid)).toBe(true);
    p.ctx.exit(p.pid, 'normal');
    expect(await p.next(isExitMessage)).toEqual({ type: 'EXIT', from: p.pid, reason: 'normal' });
  });

  it('process_SUITE:normal_suicide_exit — exit(self(), normal) without trapping terminates with normal', async () => {
    const node = testNode();
    const watcher = await probe(node, { trapExit: true });
    const child = watcher.ctx.spawnLink(async (ctx) => {
      ctx.exit(ctx.self, 'normal');
      await ctx.receive();
    });
    const m = await watcher.next<ExitMessage>(exitFrom(child));
    expect(m.reason).toBe('normal');
  });

  it('process_SUITE:abnormal_suicide_exit — exit(self(), Term) without trapping behaves like exit(Term)', async () => {
    const node = testNode();
    const watcher = await probe(node, { trapExit: true });
    const child = watcher.ctx.spawnLink({
      handle(_m: unknown, ctx: ProcessContext) {
        ctx.exit(ctx.self, { bye: 1 });
      },
    });
    node.send(child, 'go');
    const m = await watcher.next<ExitMessage>(exitFrom(child));
    expect(m.reason).toEqual({ bye: 1 });
  });

  it('process_SUITE:t_exit_2_catch — an exit signal to self is not an exception: try/catch does not see it', async () => {
    const node = testNode();
    const watcher = await probe(node);
    let caught: unknown = 'nothing';
    const [pid, ref] = watcher.ctx.spawnMonitor({
      handle(_m: unknown, ctx: ProcessContext) {
        try {
          ctx.exit(ctx.self, 'die');
        } catch (e) {
          caught = e;
        }
      },
    });
    node.send(pid, 'go');
    const d = await watcher.next<DownMessage>(downFor(ref));
    expect(d.reason).toBe('die');
    expect(caught).toBe('nothing');
  });

  it('process_SUITE:trap_exit_badarg — a runtime error in a linked process gives {EXIT, P, {error}} with name, message and stack', async () => {
    const node = testNode();
    const p = await probe(node, { trapExit: true });
    const child = p.ctx.spawnLink({
      handle(m: unknown) {
        (m as { no: { such: number } }).no.such = 1; // TypeError at runtime
      },
    });
    node.send(child, {});
    const m = await p.next<ExitMessage>(exitFrom(child));
    const err = (m.reason as { error: { name: string; message: string; stack?: string } }).error;
    expect(err.name).toBe('TypeError');
    expect(err.message).toMatch(/such/);
    expect(err.stack).toMatch(/TypeError/);
    expect(err.stack).toMatch(/exit-signals\.test\.ts/);
  });

  it('process_SUITE:exit_twice — of two exit signals to one process, the first wins', async () => {
    const node = testNode();
    const watcher = await probe(node, { trapExit: true });
    const t = watcher.ctx.spawnLink(async (ctx) => {
      await ctx.receive(() => false);
    });
    const ref = watcher.ctx.monitor(t);
    let exits = 0;
    node.events.on('exit', (e) => {
      if (e.pid.equals(t)) exits++;
    });
    node.exit(t, 'first');
    node.exit(t, 'second');
    watcher.ctx.exit(t, 'kill');
    expect((await watcher.next<ExitMessage>(exitFrom(t))).reason).toBe('first');
    expect((await watcher.next<DownMessage>(downFor(ref))).reason).toBe('first');
    expect(exits).toBe(1);
    expect(await watcher.none(exitFrom(t), 20)).toBe(true);
  });
});

describe('signal_SUITE:kill2killed (2.A row 12, local) and §1.1 #4-#6, §1.2 #22', () => {
  async function linkedChain(node: Node, n: number): Promise<{ pids: Pid[]; exits: Promise<unknown>[] }> {
    // Each process links to its predecessor before reporting ready.
    const pids: Pid[] = [];
    const exits: Promise<unknown>[] = [];
    const ready = await probe(node);
    for (let i = 0; i < n; i++) {
      const prevPid = i === 0 ? null : pids[i - 1]!;
      const pid = node.spawn(async (ctx) => {
        if (prevPid !== null) ctx.link(prevPid);
        ctx.send(ready.pid, ['linked', i]);
        await ctx.receive(() => false);
      });
      pids.push(pid);
      exits.push(exitOf(node, pid));
      await ready.next((m) => Array.isArray(m) && m[0] === 'linked' && m[1] === i);
    }
    return { pids, exits };
  }

  it('signal_SUITE:kill2killed — exit(Head, kill) kills a non-trapping chain; every member dies with killed', async () => {
    const node = testNode();
    const { pids, exits } = await linkedChain(node, 5);
    node.exit(pids[0]!, 'kill');
    expect(await Promise.all(exits)).toEqual(['killed', 'killed', 'killed', 'killed', 'killed']);
  });

  it('signal_SUITE:kill2killed — exit(kill) (exit/1) propagates as kill, not killed, down a chain', async () => {
    const node = testNode();
    const { pids, exits } = await linkedChain(node, 4);
    const trapper = await probe(node, { trapExit: true });
    trapper.ctx.link(pids[3]!);
    const head = pids[0]!;
    // make the head call exit(kill) itself
    const headSuicide = node.spawn(async (ctx) => {
      ctx.link(head);
      ctx.exit('kill');
    });
    const e0 = exitOf(node, headSuicide);
    expect(await e0).toBe('kill');
    expect(await Promise.all(exits)).toEqual(['kill', 'kill', 'kill', 'kill']);
    const m = await trapper.next<ExitMessage>(exitFrom(pids[3]!));
    expect(m.reason).toBe('kill');
    expect(node.isAlive(trapper.pid)).toBe(true);
  });

  it('§1.1 #4 — an explicit exit(P, kill) cannot be trapped; the victim ends with killed', async () => {
    const node = testNode();
    const watcher = await probe(node, { trapExit: true });
    const victim = recorder(node, { trapExit: true });
    watcher.ctx.link(victim.pid);
    const ref = watcher.ctx.monitor(victim.pid);
    watcher.ctx.exit(victim.pid, 'kill');
    expect((await watcher.next<ExitMessage>(exitFrom(victim.pid))).reason).toBe('killed');
    expect((await watcher.next<DownMessage>(downFor(ref))).reason).toBe('killed');
    expect(victim.msgs).toEqual([]);
  });

  it('§1.1 #5 — killed is an ordinary reason downstream: a trapping linker of the victim traps it and survives', async () => {
    const node = testNode();
    const victim = sleeper(node);
    const trapper = await probe(node, { trapExit: true });
    trapper.ctx.link(victim);
    const nonTrapper = sleeper(node);
    const ntExit = exitOf(node, nonTrapper);
    const linker = node.spawn(async (ctx) => {
      ctx.link(nonTrapper);
      ctx.link(victim);
      await ctx.receive(() => false);
    });
    const linkerExit = exitOf(node, linker);
    await until(() => (node.processInfo(victim)?.links.length ?? 0) === 2);
    node.exit(victim, 'kill');
    expect((await trapper.next<ExitMessage>(exitFrom(victim))).reason).toBe('killed');
    expect(await linkerExit).toBe('killed');
    expect(await ntExit).toBe('killed');
    expect(node.isAlive(trapper.pid)).toBe(true);
  });

  it('§1.1 #6 — exit(kill) via a link: a trapping partner gets {EXIT, P, kill}; a non-trapping one dies with kill', async () => {
    const node = testNode();
    const trapper = await probe(node, { trapExit: true });
    const bystander = sleeper(node);
    const bExit = exitOf(node, bystander);
    const a = trapper.ctx.spawnLink(async (ctx) => {
      ctx.link(bystander);
      await ctx.receive((m) => m === 'die');
      ctx.exit('kill');
    });
    await until(() => node.processInfo(bystander)?.links.length === 1);
    node.send(a, 'die');
    expect((await trapper.next<ExitMessage>(exitFrom(a))).reason).toBe('kill');
    expect(await bExit).toBe('kill');
  });
});

describe('§1.1 exit reasons', () => {
  it('§1.1 #2 — returning from the body, or exit(normal), ends with normal; a non-trapping linker survives', async () => {
    const node = testNode();
    const w = await probe(node, { trapExit: true });
    const a = w.ctx.spawnLink(async () => {
      /* returns */
    });
    const b = w.ctx.spawnLink({
      handle(_m: unknown, ctx: ProcessContext) {
        ctx.exit('normal');
      },
    });
    node.send(b, 'x');
    expect((await w.next<ExitMessage>(exitFrom(a))).reason).toBe('normal');
    expect((await w.next<ExitMessage>(exitFrom(b))).reason).toBe('normal');

    const partner = echo(node);
    const c = node.spawn(async (ctx) => {
      ctx.link(partner);
    });
    const p = await probe(node);
    const ref = p.ctx.monitor(c);
    await p.next(downFor(ref));
    node.send(partner, { from: p.pid, tag: 'alive' });
    await p.next(isPong('alive'));
  });

  it('§1.1 #3 — shutdown and {shutdown: x} kill a linked non-trapping partner with the same reason', async () => {
    const node = testNode();
    for (const reason of ['shutdown', { shutdown: 'x' }] as const) {
      const partner = sleeper(node);
      const pExit = exitOf(node, partner);
      const a = node.spawn(async (ctx) => {
        ctx.link(partner);
        await ctx.receive((m) => m === 'go');
        ctx.exit(reason);
      });
      await until(() => node.processInfo(partner)?.links.length === 1);
      node.send(a, 'go');
      expect(await pExit).toEqual(reason);
    }
  });

  it('§1.1 #7 / §1.2 #19 — link to a dead pid while trapping gives {EXIT, Pid, noproc}', async () => {
    const node = testNode();
    const dead = node.spawn(async () => {});
    await until(() => !node.isAlive(dead));
    const p = await probe(node, { trapExit: true });
    p.ctx.link(dead);
    const m = await p.next<ExitMessage>(exitFrom(dead));
    expect(m).toEqual({ type: 'EXIT', from: dead, reason: 'noproc' });
    expect(node.processInfo(p.pid)?.links).toEqual([]);
  });

  it('§1.2 #19 (TS rule) — link to a dead pid without trapping kills the caller with noproc', async () => {
    const node = testNode();
    const dead = node.spawn(async () => {});
    await until(() => !node.isAlive(dead));
    const w = await probe(node);
    const [caller, ref] = w.ctx.spawnMonitor(async (ctx) => {
      ctx.link(dead);
      await ctx.receive(() => false);
    });
    expect((await w.next<DownMessage>(downFor(ref))).reason).toBe('noproc');
    expect(node.isAlive(caller)).toBe(false);
  });

  it('§1.1 #9 — a thrown Error becomes {error: {name, message, stack}} (sync handler, async handler, init, body)', async () => {
    const node = testNode();
    const w = await probe(node, { trapExit: true });
    class MyErr extends Error {
      code = 'E_MINE';
      constructor(m: string) {
        super(m);
        this.name = 'MyErr';
      }
    }
    const sync = w.ctx.spawnLink({
      handle() {
        throw new MyErr('sync boom');
      },
    });
    const asyncH = w.ctx.spawnLink({
      async handle() {
        await Promise.resolve();
        throw new RangeError('async boom');
      },
    });
    const init = w.ctx.spawnLink({
      init(): undefined {
        throw new Error('init boom');
      },
      handle() {},
    });
    const asyncInit = w.ctx.spawnLink({
      async init(): Promise<undefined> {
        await Promise.resolve();
        throw new Error('async init boom');
      },
      handle() {},
    });
    const body = w.ctx.spawnLink(async () => {
      await Promise.resolve();
      throw new SyntaxError('body boom');
    });
    node.send(sync, 1);
    node.send(asyncH, 1);
    const expectErr = async (pid: Pid, name: string, message: string): Promise<void> => {
      const m = await w.next<ExitMessage>(exitFrom(pid));
      const e = (m.reason as { error: { name: string; message: string; stack?: string } }).error;
      expect(e.name).toBe(name);
      expect(e.message).toBe(message);
      expect(typeof e.stack).toBe('string');
      expect(e.stack).toContain(message);
    };
    await expectErr(sync, 'MyErr', 'sync boom');
    await expectErr(asyncH, 'RangeError', 'async boom');
    await expectErr(init, 'Error', 'init boom');
    await expectErr(asyncInit, 'Error', 'async init boom');
    await expectErr(body, 'SyntaxError', 'body boom');
  });

  it('§1.1 #9 — a custom error code is kept in the {error} reason', async () => {
    const node = testNode();
    const w = await probe(node, { trapExit: true });
    const c = w.ctx.spawnLink({
      handle() {
        throw Object.assign(new Error('coded'), { code: 'E_CODE' });
      },
    });
    node.send(c, 1);
    const m = await w.next<ExitMessage>(exitFrom(c));
    expect(m.reason).toMatchObject({ error: { name: 'Error', message: 'coded', code: 'E_CODE' } });
  });

  it('§1.1 #9 — a thrown non-Error value becomes {nocatch: value}; a rejected non-Error too', async () => {
    const node = testNode();
    const w = await probe(node, { trapExit: true });
    const a = w.ctx.spawnLink({
      handle() {
        throw { ball: 1 };
      },
    });
    const b = w.ctx.spawnLink(async () => {
      await Promise.resolve();
      throw 'ball';
    });
    const c = w.ctx.spawnLink({
      handle() {
        return Promise.reject(42);
      },
    });
    node.send(a, 1);
    node.send(c, 1);
    expect((await w.next<ExitMessage>(exitFrom(a))).reason).toEqual({ nocatch: { ball: 1 } });
    expect((await w.next<ExitMessage>(exitFrom(b))).reason).toEqual({ nocatch: 'ball' });
    expect((await w.next<ExitMessage>(exitFrom(c))).reason).toEqual({ nocatch: 42 });
  });

  it('§1.1 #9 — ctx.exit(R) carries R unchanged, from sync and async handlers', async () => {
    const node = testNode();
    const w = await probe(node, { trapExit: true });
    const reason = { any: ['value', { nested: true }] };
    const a = w.ctx.spawnLink({
      handle(_m: unknown, ctx: ProcessContext) {
        ctx.exit(reason);
      },
    });
    const b = w.ctx.spawnLink({
      async handle(_m: unknown, ctx: ProcessContext) {
        await Promise.resolve();
        ctx.exit('async-exit');
      },
    });
    node.send(a, 1);
    node.send(b, 1);
    expect((await w.next<ExitMessage>(exitFrom(a))).reason).toBe(reason);
    expect((await w.next<ExitMessage>(exitFrom(b))).reason).toBe('async-exit');
  });

  it('§3 N6 — crashes never surface as unhandledRejection/uncaughtException (checked by process listeners)', async () => {
    const node = testNode();
    const w = await probe(node);
    const refs = [];
    for (let i = 0; i < 20; i++) {
      const [, r1] = w.ctx.spawnMonitor(async () => {
        throw new Error(`body ${i}`);
      });
      const [p2, r2] = w.ctx.spawnMonitor({
        async handle() {
          throw new Error(`async ${i}`);
        },
      });
      const [p3, r3] = w.ctx.spawnMonitor({
        handle() {
          throw `sync ${i}`;
        },
      });
      node.send(p2, 'x');
      node.send(p3, 'x');
      refs.push(r1, r2, r3);
    }
    for (const r of refs) await w.next(downFor(r));
    // give stray rejections a chance to be reported (they are reported after a microtask/macrotask)
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(escaped).toEqual([]);
  });

  it('§3 N6 — a handler returning a thenable whose then() throws crashes only that process; the node keeps running', async () => {
    const node = testNode();
    const w = await probe(node, { trapExit: true });
    const bad = w.ctx.spawnLink({
      handle() {
        return {
          then() {
            throw new Error('broken thenable');
          },
        };
      },
    });
    const badInit = w.ctx.spawnLink({
      init() {
        return {
          then() {
            throw new Error('broken init thenable');
          },
        } as unknown as Promise<undefined>;
      },
      handle() {},
    });
    node.send(bad, 'go');
    expect((await w.next<ExitMessage>(exitFrom(bad))).reason).toMatchObject({ error: { message: 'broken thenable' } });
    expect((await w.next<ExitMessage>(exitFrom(badInit))).reason).toMatchObject({ error: { message: 'broken init thenable' } });
    const e = echo(node);
    node.send(e, { from: w.pid, tag: 'after' });
    await w.next(isPong('after'));
  });

  it('§3 N3 — kill during an async handler: links fire with killed at once, the signal is aborted, the late result is ignored', async () => {
    const node = testNode();
    const w = await probe(node, { trapExit: true });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let aborted: unknown = null;
    let afterAwait = false;
    const victim = w.ctx.spawnLink({
      async handle(_m: unknown, ctx: ProcessContext) {
        ctx.signal.addEventListener('abort', () => (aborted = ctx.signal.reason));
        await gate;
        afterAwait = true;
        throw new Error('late failure must be ignored');
      },
    });
    node.send(victim, 'start');
    node.send(victim, 'queued');
    await until(() => node.processInfo(victim)?.status === 'suspended');
    node.exit(victim, 'kill');
    expect((await w.next<ExitMessage>(exitFrom(victim))).reason).toBe('killed');
    expect(aborted).toBe('killed');
    release();
    await until(() => afterAwait);
    expect(await w.none(exitFrom(victim), 20)).toBe(true);
  });
});

describe('§1.2 links and exit signals', () => {
  it('§1.2 #12 — a link is bidirectional; linking twice gives one EXIT; unlink removes it on both sides', async () => {
    const node = testNode();
    const p = await probe(node, { trapExit: true });
    const a = sleeper(node);
    p.ctx.link(a);
    p.ctx.link(a);
    expect(node.processInfo(p.pid)?.links).toEqual([a]);
    expect(node.processInfo(a)?.links).toEqual([p.pid]);
    node.exit(a, 'bye');
    expect((await p.next<ExitMessage>(exitFrom(a))).reason).toBe('bye');
    expect(await p.none(exitFrom(a), 20)).toBe(true);

    const b = sleeper(node);
    p.ctx.link(b);
    p.ctx.unlink(b);
    p.ctx.unlink(b); // idempotent
    expect(node.processInfo(p.pid)?.links).toEqual([]);
    expect(node.processInfo(b)?.links).toEqual([]);
    node.exit(b, 'bye');
    expect(await p.none(exitFrom(b), 20)).toBe(true);
  });

  it('§1.2 #12 — a link works in the other direction: the linker dying kills the linked process', async () => {
    const node = testNode();
    const b = sleeper(node);
    const bExit = exitOf(node, b);
    const a = node.spawn(async (ctx) => {
      ctx.link(b);
      await ctx.receive((m) => m === 'go');
      throw new Error('a dies');
    });
    await until(() => node.processInfo(b)?.links.length === 1);
    node.send(a, 'go');
    expect(await bExit).toMatchObject({ error: { message: 'a dies' } });
  });

  it('§1.2 #12 — unlink by the other side also removes the link', async () => {
    const node = testNode();
    const p = await probe(node, { trapExit: true });
    let bctx!: ProcessContext;
    const b = node.spawn(async (ctx) => {
      bctx = ctx;
      await ctx.receive(() => false);
    });
    await until(() => bctx !== undefined);
    p.ctx.link(b);
    bctx.unlink(p.pid);
    expect(node.processInfo(p.pid)?.links).toEqual([]);
    node.exit(b, 'bye');
    expect(await p.none(exitFrom(b), 20)).toBe(true);
  });

  it('§1.2 #13 — spawnLink links before the child runs: an immediate crash gives its real reason, never noproc', async () => {
    const node = testNode();
    const p = await probe(node, { trapExit: true });
    const sync = p.ctx.spawnLink(() => {
      throw new Error('instant');
    });
    const beh = p.ctx.spawnLink({
      init() {
        throw new Error('instant init');
      },
      handle() {},
    });
    expect((await p.next<ExitMessage>(exitFrom(sync))).reason).toMatchObject({ error: { message: 'instant' } });
    expect((await p.next<ExitMessage>(exitFrom(beh))).reason).toMatchObject({ error: { message: 'instant init' } });
  });

  it('§1.2 #15 — a link signal for a link that was removed is dropped (non-trapping receiver survives)', async () => {
    const node = testNode();
    const survivor = echo(node);
    let actx!: ProcessContext;
    const a = node.spawn(async (ctx) => {
      actx = ctx;
      await ctx.receive((m) => m === 'die');
      ctx.exit('boom');
    });
    await until(() => actx !== undefined);
    actx.link(survivor);
    actx.unlink(survivor);
    node.send(a, 'die');
    const p = await probe(node);
    await until(() => !node.isAlive(a));
    node.send(survivor, { from: p.pid, tag: 's' });
    await p.next(isPong('s'));
  });

  it('§1.2 #17 — normal exit of a linked process never kills a non-trapping partner', async () => {
    const node = testNode();
    const partner = echo(node);
    const a = node.spawn(async (ctx) => {
      ctx.link(partner);
      await ctx.receive((m) => m === 'stop');
    });
    await until(() => node.processInfo(partner)?.links.length === 1);
    node.send(a, 'stop');
    await until(() => !node.isAlive(a));
    const p = await probe(node);
    node.send(partner, { from: p.pid, tag: 'n' });
    await p.next(isPong('n'));
    expect(node.processInfo(partner)?.links).toEqual([]);
  });

  it('§1.2 #18 — trapExit can be switched at runtime and applies to signals received after the switch', async () => {
    const node = testNode();
    const p = await probe(node);
    expect(p.ctx.trapExit(true)).toBe(false);
    expect(p.ctx.trappingExits).toBe(true);
    node.exit(p.pid, 'first');
    expect(await p.next(isExitMessage)).toEqual({ type: 'EXIT', from: node.external, reason: 'first' });
    expect(p.ctx.trapExit(false)).toBe(true);
    const pExit = exitOf(node, p.pid);
    node.exit(p.pid, 'second');
    expect(await pExit).toBe('second');
  });

  it('§1.2 #18 — switching trapExit off does not turn an already delivered EXIT message back into a signal', async () => {
    const node = testNode();
    const w = await probe(node);
    const pid = node.spawn(
      async (ctx) => {
        await ctx.receive((m) => m === 'go'); // selective: the EXIT waits in the mailbox meanwhile
        ctx.send(w.pid, { wasTrapping: ctx.trapExit(false) });
        ctx.send(w.pid, { got: await ctx.receive() });
        await ctx.receive(() => false);
      },
      { trapExit: true },
    );
    node.exit(pid, 'x');
    await until(() => node.mailboxOf(pid).length === 1); // delivered as a message while trapping
    node.send(pid, 'go');
    expect(await w.next()).toEqual({ wasTrapping: true });
    const got = await w.next<{ got: unknown }>();
    expect(isExitMessage(got.got)).toBe(true);
    expect(got.got).toMatchObject({ type: 'EXIT', reason: 'x' });
    expect(node.isAlive(pid)).toBe(true);
    // Not trapping any more: a new exit signal is a signal.
    node.exit(pid, 'y');
    expect(node.isAlive(pid)).toBe(false);
  });

  it('§1.2 #21 — a dying process releases its name before EXIT goes out: the EXIT receiver can re-register it at once', async () => {
    const node = testNode();
    const seen: { whereisAtExit: Pid | undefined; reregistered: boolean }[] = [];
    const named = sleeper(node, { name: 'svc' });
    const heir = recorder(node, {
      trapExit: true,
      onMsg(m, ctx) {
        if (isExitMessage(m)) {
          const w = ctx.whereis('svc');
          ctx.register('svc');
          seen.push({ whereisAtExit: w, reregistered: node.whereis('svc')?.equals(ctx.self) ?? false });
        }
      },
    });
    const linker = node.spawn(async (ctx) => {
      ctx.link(named);
      ctx.link(heir.pid);
      await ctx.receive(() => false);
    });
    void linker;
    await until(() => node.processInfo(heir.pid)?.links.length === 1 && node.processInfo(named)?.links.length === 1);
    // named dies -> linker dies (non-trapping) -> heir gets EXIT; by then 'svc' must be free
    node.exit(named, 'crash');
    await until(() => seen.length === 1);
    expect(seen[0]).toEqual({ whereisAtExit: undefined, reregistered: true });
  });

  it('§1.2 #21 — a trapping linker of the named process sees the name free when its EXIT arrives', async () => {
    const node = testNode();
    const named = sleeper(node, { name: 'db' });
    const w = await probe(node, { trapExit: true });
    w.ctx.link(named);
    node.exit(named, 'crash');
    const m = await w.next<ExitMessage>(exitFrom(named));
    expect(m.reason).toBe('crash');
    expect(node.whereis('db')).toBeUndefined();
    expect(node.registered()).not.toContain('db');
    w.ctx.register('db');
    expect(node.whereis('db')).toEqual(w.pid);
  });

  it('§1.2 #20 — the first exit signal wins: kill then another reason gives killed', async () => {
    const node = testNode();
    const w = await probe(node, { trapExit: true });
    const t = w.ctx.spawnLink(async (ctx) => {
      await ctx.receive(() => false);
    });
    node.exit(t, 'kill');
    node.exit(t, 'other');
    expect((await w.next<ExitMessage>(exitFrom(t))).reason).toBe('killed');
  });

  it('signal_SUITE:unlink_exit — re-linking after unlink to a dead peer gives noproc, not its old reason', async () => {
    const node = testNode();
    const p = await probe(node, { trapExit: true });
    const peer = sleeper(node);
    p.ctx.link(peer);
    p.ctx.unlink(peer);
    const peerExit = exitOf(node, peer);
    node.exit(peer, 'old_reason');
    expect(await peerExit).toBe('old_reason');
    p.ctx.link(peer);
    const m = await p.next<ExitMessage>(exitFrom(peer));
    expect(m.reason).toBe('noproc');
    expect(await p.none(exitFrom(peer), 20)).toBe(true);
  });

  it('§1.2 #14 — a process linked to many sends each of them exactly one EXIT with its reason', async () => {
    const node = testNode();
    const ws = await Promise.all(Array.from({ length: 5 }, () => probe(node, { trapExit: true })));
    const hub = sleeper(node);
    for (const w of ws) w.ctx.link(hub);
    expect(node.processInfo(hub)?.links.length).toBe(5);
    node.exit(hub, { reason: 'fanout' });
    for (const w of ws) {
      expect((await w.next<ExitMessage>(exitFrom(hub))).reason).toEqual({ reason: 'fanout' });
      expect(node.processInfo(w.pid)?.links).toEqual([]);
    }
  });

  it('§1.2 #22 — a very long chain of links does not overflow the stack', async () => {
    const node = testNode();
    const n = 20_000;
    const chain: Pid[] = [];
    for (let i = 0; i < n; i++) {
      const prev = i === 0 ? null : chain[i - 1]!;
      chain.push(
        node.spawn(async (ctx) => {
          if (prev !== null) ctx.link(prev);
          await ctx.receive(() => false);
        }),
      );
    }
    const tail = exitOf(node, chain[n - 1]!, 10_000);
    await until(() => node.processInfo(chain[n - 1]!)?.links.length === 1, 10_000);
    node.exit(chain[0]!, 'chain_reaction');
    expect(await tail).toBe('chain_reaction');
    expect(chain.every((p) => !node.isAlive(p))).toBe(true);
  });
});
