import { readFile } from 'node:fs';
import { promiseHooks } from 'node:v8';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { downFor, probe, sleeper, testNode, until } from './helpers.js';
import { Node, silentLogger, type Logger, type Pid, type ProcessContext } from '../src/index.js';

/** Upper bound for self-sustaining floods: reaching it means the event loop never got a turn. */
const CAP = 20_000_000;

/** A behaviour that keeps sending itself a message until `stop()` is true or CAP is hit; counts in `n`. */
function selfFlood(node: Node, stop: () => boolean): { pid: Pid; count: () => number; done: () => boolean } {
  let n = 0;
  let finished = false;
  const pid = node.spawn<'go'>({
    handle(_m, ctx) {
      n++;
      if (stop() || n >= CAP) {
        finished = true;
        return;
      }
      ctx.send(ctx.self, 'go');
    },
  });
  node.send(pid, 'go');
  return { pid, count: () => n, done: () => finished };
}

let escaped: unknown[] = [];
const onEscape = (e: unknown): void => void escaped.push(e);
beforeEach(() => {
  escaped = [];
  process.on('unhandledRejection', onEscape);
  process.on('uncaughtException', onEscape);
});
afterEach(() => {
  process.off('unhandledRejection', onEscape);
  process.off('uncaughtException', onEscape);
  vi.restoreAllMocks();
  expect(escaped).toEqual([]);
});

describe('§3 N1/N2 the scheduler yields to the event loop', () => {
  it('N2 — a setTimeout(…, 1) fires while a process is still working through a self-sustaining flood', async () => {
    const node = testNode();
    let fired = false;
    const flood = selfFlood(node, () => fired);
    let countAtTimer = -1;
    setTimeout(() => {
      countAtTimer = flood.count();
      fired = true;
    }, 1);
    await until(() => flood.done(), 15_000, 'flood to stop');
    expect(fired).toBe(true);
    expect(countAtTimer).toBeGreaterThan(0);
    expect(flood.count()).toBeLessThan(CAP);
    expect(node.stats().yields).toBeGreaterThan(0);
  });

  it('N2 — a timer fires before an externally queued flood of 1 000 000 messages is finished', async () => {
    const node = testNode();
    const total = 1_000_000;
    let handled = 0;
    const pid = node.spawn<number>({
      handle() {
        handled++;
      },
    });
    let atTimer = -1;
    setTimeout(() => {
      atTimer = handled;
    }, 1);
    for (let i = 0; i < total; i++) node.send(pid, i);
    await until(() => handled === total, 20_000, 'flood drained');
    expect(atTimer).toBeGreaterThanOrEqual(0);
    expect(atTimer).toBeLessThan(total);
  });

  it('N1/N2 — I/O callbacks (fs.readFile) and setImmediate run while a process is flooded', async () => {
    const node = testNode();
    let ioDone = false;
    let immediateDone = false;
    const flood = selfFlood(node, () => ioDone && immediateDone);
    setImmediate(() => (immediateDone = true));
    readFile(new URL(import.meta.url), () => (ioDone = true));
    await until(() => flood.done(), 15_000, 'flood to stop');
    expect(flood.count()).toBeLessThan(CAP);
  });

  it('N2 — process-style ping-pong (receive/send through microtasks) does not starve the event loop', async () => {
    const node = testNode();
    let stop = false;
    let rounds = 0;
    const ponger = node.spawn(async (ctx) => {
      for (;;) {
        const m = (await ctx.receive()) as { from: Pid } | 'quit';
        if (m === 'quit') return;
        ctx.send(m.from, 'pong');
      }
    });
    const pinger = node.spawn(async (ctx) => {
      while (!stop && rounds < CAP) {
        ctx.send(ponger, { from: ctx.self });
        await ctx.receive((m) => m === 'pong');
        rounds++;
      }
      ctx.send(ponger, 'quit');
    });
    const w = await probe(node);
    const ref = w.ctx.monitor(pinger);
    setTimeout(() => (stop = true), 1);
    await w.next(downFor(ref), 15_000);
    expect(stop).toBe(true);
    expect(rounds).toBeGreaterThan(0);
    expect(rounds).toBeLessThan(CAP);
  });

  it('N2 — the throughput budget interleaves two flooded processes (runs of `throughput` messages each)', async () => {
    const node = testNode();
    const log: string[] = [];
    const mk = (tag: string): Pid =>
      node.spawn<number>(
        {
          handle() {
            log.push(tag);
          },
        },
        { throughput: 10 },
      );
    const a = mk('a');
    const b = mk('b');
    for (let i = 0; i < 100; i++) {
      node.send(a, i);
      node.send(b, i);
    }
    await until(() => log.length === 200);
    const runs: string[] = [];
    for (let i = 0; i < log.length; i += 10) {
      const chunk = log.slice(i, i + 10);
      expect(new Set(chunk).size).toBe(1);
      runs.push(chunk[0]!);
    }
    expect(runs).toEqual(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 'a' : 'b')));
  });

  it('N2 — a flooded process (mailbox > 10,000) gets 16× its throughput per visit, so floods stay bounded', async () => {
    const node = testNode();
    const log: string[] = [];
    const mk = (tag: string): Pid =>
      node.spawn<number>(
        {
          handle() {
            log.push(tag);
          },
        },
        { throughput: 10 },
      );
    const a = mk('a');
    const b = mk('b');
    for (let i = 0; i < 20_000; i++) node.send(a, i);
    node.send(b, 0);
    await until(() => log.length === 20_001);
    expect(log.indexOf('b')).toBe(160); // a's first visit: 16 × 10 messages, then b's turn
  });

  it('N2 — the node-wide throughput option applies to every process', async () => {
    const node = new Node({ logger: silentLogger, throughput: 3 });
    const log: string[] = [];
    const mk = (tag: string): Pid =>
      node.spawn<number>({
        handle() {
          log.push(tag);
        },
      });
    const a = mk('a');
    const b = mk('b');
    for (let i = 0; i < 9; i++) {
      node.send(a, i);
      node.send(b, i);
    }
    await until(() => log.length === 18);
    expect(log.join('')).toBe('aaabbbaaabbbaaabbb');
  });

  it('§ Behaviour fast path — a synchronous handler creates no Promise per message (v8 promiseHooks)', async () => {
    const node = testNode();
    const n = 50_000;
    let handled = 0;
    const pid = node.spawn<number>({
      handle() {
        handled++;
      },
    });
    await until(() => node.processInfo(pid)?.status === 'waiting');
    let created = 0;
    const stop = promiseHooks.onInit(() => {
      created++;
    });
    try {
      for (let i = 0; i < n; i++) node.send(pid, i);
      await until(() => handled === n, 10_000);
    } finally {
      stop();
    }
    // the waiting loop itself creates a few promises per event-loop turn; nothing proportional to n
    expect(created).toBeLessThan(n / 50);

    // the measurement is sound: an async handler does create at least one promise per message
    let handled2 = 0;
    const pid2 = node.spawn<number>({
      async handle() {
        handled2++;
      },
    });
    await until(() => node.processInfo(pid2)?.status === 'waiting');
    let created2 = 0;
    const stop2 = promiseHooks.onInit(() => {
      created2++;
    });
    try {
      for (let i = 0; i < 2000; i++) node.send(pid2, i);
      await until(() => handled2 === 2000, 10_000);
    } finally {
      stop2();
    }
    expect(created2).toBeGreaterThanOrEqual(2000);
  });

  it('N4 — an async handler keeps the mailbox closed: one message in flight at a time, in order', async () => {
    const node = testNode();
    let inFlight = 0;
    let maxInFlight = 0;
    const order: number[] = [];
    const pid = node.spawn<number>({
      async handle(m) {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setImmediate(r));
        order.push(m);
        inFlight--;
      },
    });
    for (let i = 0; i < 50; i++) node.send(pid, i);
    await until(() => order.length === 50);
    expect(maxInFlight).toBe(1);
    expect(order).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});

describe('observability', () => {
  it('processInfo reports status, mailbox, handled, links, monitors, monitoredBy, name, behaviour, trapExit', async () => {
    const node = testNode();
    const w = await probe(node, { trapExit: true });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const pid = node.spawn(
      {
        name: 'worker-behaviour',
        async handle(m: unknown) {
          if (m === 'block') await gate;
        },
      },
      { name: 'wk', trapExit: true },
    );
    expect(node.processInfo(pid)?.status).toBe('starting');
    await until(() => node.processInfo(pid)?.status === 'waiting');
    w.ctx.link(pid);
    const ref = w.ctx.monitor(pid);
    const other = sleeper(node);
    let info = node.processInfo(pid)!;
    expect(info).toMatchObject({
      pid,
      status: 'waiting',
      mailbox: 0,
      handled: 0,
      links: [w.pid],
      monitors: [],
      monitoredBy: [w.pid],
      name: 'wk',
      behaviour: 'worker-behaviour',
      trapExit: true,
    });
    node.send(pid, 'block');
    node.send(pid, 'queued1');
    node.send(pid, 'queued2');
    await until(() => node.processInfo(pid)?.status === 'suspended');
    info = node.processInfo(pid)!;
    expect(info.mailbox).toBe(2);
    expect(info.handled).toBe(1);
    release();
    await until(() => node.processInfo(pid)?.handled === 3);
    expect(node.processInfo(pid)).toMatchObject({ status: 'waiting', mailbox: 0, handled: 3 });
    // monitors of the probe, and a runnable status for a behaviour with queued work
    expect(node.processInfo(w.pid)).toMatchObject({ links: [pid], monitors: [pid], behaviour: 'probe', trapExit: true, name: null });
    node.exit(pid, 'kill');
    expect(node.processInfo(pid)).toBeUndefined();
    expect(node.processInfo(w.pid)?.links).toEqual([]);
    expect(node.processInfo(w.pid)?.monitors).toEqual([]);
    await w.next(downFor(ref));
    void other;
  });

  it('processInfo status: runnable while messages wait for the scheduler; waiting for a process-style receive', async () => {
    const node = testNode();
    const b = node.spawn({ handle() {} });
    await until(() => node.processInfo(b)?.status === 'waiting');
    node.send(b, 1);
    expect(node.processInfo(b)).toMatchObject({ status: 'runnable', mailbox: 1 });
    await until(() => node.processInfo(b)?.status === 'waiting');
    const p = await probe(node);
    const pending = p.ctx.receive((m) => m === 'x');
    expect(node.processInfo(p.pid)?.status).toBe('waiting');
    node.send(p.pid, 'x');
    await pending;
    const s = node.spawn(async (ctx) => {
      await ctx.receive();
    }, { label: 'labelled' });
    expect(node.processInfo(s)?.behaviour).toBe('labelled');
  });

  it('processes() and processCount list live processes only', async () => {
    const node = testNode();
    const a = sleeper(node);
    const b = sleeper(node);
    expect(node.processes()).toEqual(expect.arrayContaining([a, b]));
    expect(node.processCount).toBe(node.processes().length);
    node.exit(a, 'kill');
    expect(node.processes().some((p) => p.equals(a))).toBe(false);
    expect(node.processes().some((p) => p.equals(b))).toBe(true);
    node.shutdown();
    expect(node.processes()).toEqual([]);
    expect(node.processCount).toBe(0);
  });

  it('node.events: spawn, exit (every exit) and crash (only abnormal reasons)', async () => {
    const node = testNode();
    const spawns: unknown[] = [];
    const exits: unknown[] = [];
    const crashes: unknown[] = [];
    node.events.on('spawn', (e) => spawns.push(e));
    node.events.on('exit', (e) => exits.push(e.reason));
    node.events.on('crash', (e) => crashes.push(e));
    const reasons = ['shutdown', { shutdown: 1 }, 'boom', 'kill'];
    const pids = reasons.map(() => sleeper(node));
    const beh = node.spawn({ name: 'crasher', handle() { throw new Error('bad'); } });
    const quick = node.spawn(async () => {});
    expect(spawns).toHaveLength(6);
    expect(spawns[4]).toEqual({ pid: beh, behaviour: 'crasher' });
    pids.forEach((p, i) => node.exit(p, reasons[i]));
    node.send(beh, 1);
    await until(() => !node.isAlive(beh) && !node.isAlive(quick));
    expect(exits).toHaveLength(6);
    expect(exits).toEqual(expect.arrayContaining(['shutdown', { shutdown: 1 }, 'boom', 'killed', 'normal']));
    const crashReasons = crashes.map((c) => (c as { reason: unknown }).reason);
    expect(crashReasons).toEqual(expect.arrayContaining(['boom', 'killed']));
    expect(crashReasons).not.toContain('normal');
    expect(crashReasons).not.toContain('shutdown');
    expect(crashReasons).not.toContainEqual({ shutdown: 1 });
    expect(crashes).toContainEqual({ pid: beh, behaviour: 'crasher', reason: expect.objectContaining({ error: expect.objectContaining({ message: 'bad' }) }) });
  });

  it('crash reports go through a custom Logger (abnormal reasons only); killed is not reported', async () => {
    const entries: { level: string; msg: string; data?: Record<string, unknown> }[] = [];
    const logger: Logger = {
      debug: (msg, data) => entries.push({ level: 'debug', msg, ...(data ? { data } : {}) }),
      info: (msg, data) => entries.push({ level: 'info', msg, ...(data ? { data } : {}) }),
      warn: (msg, data) => entries.push({ level: 'warn', msg, ...(data ? { data } : {}) }),
      error: (msg, data) => entries.push({ level: 'error', msg, ...(data ? { data } : {}) }),
    };
    const node = new Node({ logger });
    const w = await probe(node);
    const crasher = node.spawn({ name: 'crasher', handle() { throw new TypeError('kaput'); } });
    const refs = [w.ctx.monitor(crasher)];
    node.send(crasher, 1);
    for (const r of ['normal', 'shutdown', { shutdown: 'x' }, 'kill']) {
      const s = sleeper(node);
      refs.push(w.ctx.monitor(s));
      if (r === 'normal') node.spawn(async (ctx) => ctx.exit(s, 'kill'));
      else node.exit(s, r);
    }
    const quiet = node.spawn(async () => {});
    refs.push(w.ctx.monitor(quiet));
    for (const r of refs) await w.next(downFor(r));
    const errors = entries.filter((e) => e.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toBe('process crashed');
    expect(errors[0]!.data).toMatchObject({
      pid: crasher.toString(),
      behaviour: 'crasher',
      reason: { error: { name: 'TypeError', message: 'kaput' } },
    });
  });

  it('silentLogger writes nothing; the default console logger writes a JSON crash line to stderr', async () => {
    const writes: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    try {
      const quietNode = new Node({ logger: silentLogger });
      const w1 = await probe(quietNode);
      const [, r1] = w1.ctx.spawnMonitor(() => {
        throw new Error('silent crash');
      });
      await w1.next(downFor(r1));
      expect(writes.filter((l) => l.includes('silent crash'))).toEqual([]);

      const loud = new Node();
      const w2 = await probe(loud);
      const [, r2] = w2.ctx.spawnMonitor(() => {
        throw new Error('loud crash');
      });
      await w2.next(downFor(r2));
      const line = writes.find((l) => l.includes('loud crash'));
      expect(line).toBeDefined();
      const parsed = JSON.parse(line!) as { level: string; msg: string };
      expect(parsed).toMatchObject({ level: 'error', msg: 'process crashed' });
    } finally {
      spy.mockRestore();
    }
  });

  it('N6 — a Logger that throws does not take the node down: the scheduler keeps running', async () => {
    const logger: Logger = {
      ...silentLogger,
      error() {
        throw new Error('logger is broken');
      },
    };
    const node = new Node({ logger });
    const w = await probe(node);
    const [crasher, ref] = w.ctx.spawnMonitor({
      handle() {
        throw new Error('crash');
      },
    });
    node.events.on('exit', () => {
      throw new Error('listener is broken too');
    });
    node.send(crasher, 'go');
    expect(await w.next(downFor(ref))).toMatchObject({ reason: { error: { message: 'crash' } } });
    // still working afterwards
    const echo = node.spawn<{ from: Pid }>({
      handle(m, ctx: ProcessContext<{ from: Pid }, undefined>) {
        ctx.send(m.from, 'alive');
      },
    });
    node.send(echo, { from: w.pid });
    expect(await w.next((m) => m === 'alive')).toBe('alive');
  });
});
