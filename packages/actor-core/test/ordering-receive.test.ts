import { afterEach, describe, expect, it, vi } from 'vitest';
import { downFor, probe, recorder, testNode, until } from './helpers.js';
import { TIMEOUT, isExitMessage, type DownMessage, type Pid, type ProcessContext } from '../src/index.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('§1.4 ordering', () => {
  it('§1.4 #33 — per-pair FIFO: 100 000 messages from one process arrive in send order', async () => {
    const node = testNode();
    const out = recorder(node);
    const n = 100_000;
    const sender = node.spawn(async (ctx) => {
      for (let i = 0; i < n; i++) ctx.send(out.pid, i);
    });
    void sender;
    await until(() => out.msgs.length === n, 10_000);
    for (let i = 0; i < n; i++) if (out.msgs[i] !== i) throw new Error(`out of order at ${i}: ${String(out.msgs[i])}`);
  });

  it('§1.4 #33 — per-pair FIFO holds for every sender when several senders interleave (across scheduler turns)', async () => {
    const node = testNode();
    const out = recorder(node);
    const senders = 5;
    const per = 5_000;
    for (let s = 0; s < senders; s++) {
      node.spawn(async (ctx) => {
        for (let i = 0; i < per; i++) {
          ctx.send(out.pid, [s, i]);
          if (i % 500 === 0) await new Promise((r) => setImmediate(r));
        }
      });
    }
    await until(() => out.msgs.length === senders * per, 10_000);
    const next = new Array<number>(senders).fill(0);
    for (const m of out.msgs as [number, number][]) {
      expect(m[1]).toBe(next[m[0]]);
      next[m[0]]!++;
    }
  });

  it('signal_SUITE:xm_sig_order (local) — messages sent after exit(P, R) are never processed; DOWN carries R', async () => {
    const node = testNode();
    const mon = await probe(node);
    for (let round = 0; round < 20; round++) {
      const processed: unknown[] = [];
      const p = node.spawn({
        handle(m: unknown) {
          processed.push(m);
        },
      });
      const ref = mon.ctx.monitor(p);
      const sender = await probe(node);
      // let P run a variable amount before the burst
      for (let i = 0; i < round % 4; i++) await new Promise((r) => setImmediate(r));
      sender.ctx.send(p, ['before', 1]);
      sender.ctx.send(p, ['before', 2]);
      sender.ctx.send(p, ['before', 3]);
      sender.ctx.exit(p, { reason: round });
      sender.ctx.send(p, ['after', 1]);
      sender.ctx.send(p, ['after', 2]);
      sender.ctx.send(p, ['after', 3]);
      const d = await mon.next<DownMessage>(downFor(ref));
      expect(d.reason).toEqual({ reason: round });
      expect(processed.every((m) => (m as [string])[0] === 'before')).toBe(true);
      // the ones that were processed are a prefix of the 'before' messages, in order
      expect(processed).toEqual([['before', 1], ['before', 2], ['before', 3]].slice(0, processed.length));
      node.exit(sender.pid, 'kill');
    }
  });

  it('signal_SUITE:xm_sig_order (local, trapping) — the EXIT message sits between the messages sent before and after it', async () => {
    const node = testNode();
    const p = recorder(node, { trapExit: true });
    const sender = await probe(node);
    sender.ctx.send(p.pid, 'b1');
    sender.ctx.send(p.pid, 'b2');
    sender.ctx.exit(p.pid, 'r');
    sender.ctx.send(p.pid, 'a1');
    sender.ctx.send(p.pid, 'a2');
    await until(() => p.msgs.length === 5);
    expect(p.msgs).toEqual(['b1', 'b2', { type: 'EXIT', from: sender.pid, reason: 'r' }, 'a1', 'a2']);
  });

  it('§1.4 #33 — a trapped link EXIT never overtakes messages the dying process sent before it died', async () => {
    const node = testNode();
    const p = await probe(node, { trapExit: true });
    const child = p.ctx.spawnLink(async (ctx) => {
      for (let i = 0; i < 50; i++) ctx.send(p.pid, i);
      throw new Error('after sends');
    });
    for (let i = 0; i < 50; i++) expect(await p.next()).toBe(i);
    const m = await p.next();
    expect(isExitMessage(m) && m.from.equals(child)).toBe(true);
  });

  it('§1.4 #35 — sending to a dead pid is silently dropped', async () => {
    const node = testNode();
    const dead = node.spawn(async () => {});
    await until(() => !node.isAlive(dead));
    expect(() => node.send(dead, 'x')).not.toThrow();
    const p = await probe(node);
    expect(() => p.ctx.send(dead, 'x')).not.toThrow();
  });
});

describe('§1.5 selective receive', () => {
  it('Appendix A — selective receive of b from [a, b, c] returns b and leaves [a, c] in order', async () => {
    const node = testNode();
    const p = await probe(node);
    node.send(p.pid, 'a');
    node.send(p.pid, 'b');
    node.send(p.pid, 'c');
    expect(await p.ctx.receive((m) => m === 'b')).toBe('b');
    expect(node.mailboxOf(p.pid)).toEqual(['a', 'c']);
    expect(await p.ctx.receive()).toBe('a');
    expect(await p.ctx.receive()).toBe('c');
  });

  it('§1.5 #38 — the first matching message (oldest) is taken; unmatched ones stay in their original order', async () => {
    const node = testNode();
    const p = await probe(node);
    for (let i = 0; i < 20; i++) node.send(p.pid, i);
    const even = (m: unknown): boolean => typeof m === 'number' && m % 2 === 0;
    const evens: unknown[] = [];
    for (let i = 0; i < 10; i++) evens.push(await p.ctx.receive(even));
    expect(evens).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect(node.mailboxOf(p.pid)).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
  });

  it('§1.5 #38 — while a selective receive waits, non-matching arrivals queue in order; the matching one resumes it', async () => {
    const node = testNode();
    const p = await probe(node);
    const waiting = p.ctx.receive((m) => m === 'wanted');
    node.send(p.pid, 'x');
    node.send(p.pid, 'y');
    node.send(p.pid, 'wanted');
    node.send(p.pid, 'z');
    expect(await waiting).toBe('wanted');
    expect(node.mailboxOf(p.pid)).toEqual(['x', 'y', 'z']);
  });

  it('§1.5 #38 — a process-style server using selective receive processes by priority without losing messages', async () => {
    const node = testNode();
    const out = recorder(node);
    const srv = node.spawn(async (ctx) => {
      await ctx.receive((m) => m === 'start');
      for (;;) {
        const urgent = await ctx.receive((m) => Array.isArray(m) && m[0] === 'urgent', { timeout: 0 });
        if (urgent !== TIMEOUT) {
          ctx.send(out.pid, urgent);
          continue;
        }
        const any = await ctx.receive(undefined, { timeout: 0 });
        if (any === TIMEOUT) break;
        ctx.send(out.pid, any);
      }
    });
    node.send(srv, ['normal', 1]);
    node.send(srv, ['urgent', 1]);
    node.send(srv, ['normal', 2]);
    node.send(srv, ['urgent', 2]);
    node.send(srv, 'start');
    await until(() => out.msgs.length === 4);
    expect(out.msgs).toEqual([
      ['urgent', 1],
      ['urgent', 2],
      ['normal', 1],
      ['normal', 2],
    ]);
  });

  it('§1.5 #39 — timeout 0 is a poll: TIMEOUT when nothing matches, the message when one is queued', async () => {
    const node = testNode();
    const p = await probe(node);
    expect(await p.ctx.receive(undefined, { timeout: 0 })).toBe(TIMEOUT);
    node.send(p.pid, 'nope');
    expect(await p.ctx.receive((m) => m === 'yes', { timeout: 0 })).toBe(TIMEOUT);
    node.send(p.pid, 'yes');
    expect(await p.ctx.receive((m) => m === 'yes', { timeout: 0 })).toBe('yes');
    expect(node.mailboxOf(p.pid)).toEqual(['nope']);
  });

  it('§1.5 #39 — the timeout fires after at least T ms when no matching message arrives; TIMEOUT is a symbol', async () => {
    const node = testNode();
    const p = await probe(node);
    node.send(p.pid, 'unrelated');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
    let r: unknown = 'pending';
    void p.ctx.receive((m) => m === 'never', { timeout: 30 }).then((x) => (r = x));
    vi.advanceTimersByTime(29);
    await until(() => true); // a loop turn: whatever was due has run
    expect(r).toBe('pending');
    vi.advanceTimersByTime(1);
    await until(() => r !== 'pending', 2000, 'the receive to time out');
    expect(r).toBe(TIMEOUT);
    expect(typeof TIMEOUT).toBe('symbol');
    expect(node.mailboxOf(p.pid)).toEqual(['unrelated']);
  });

  it('§1.5 #39 — non-matching arrivals do not cancel or restart the timeout', async () => {
    const node = testNode();
    const p = await probe(node);
    const r = p.ctx.receive((m) => m === 'never', { timeout: 40 });
    const feeder = setInterval(() => node.send(p.pid, 'noise'), 5);
    try {
      expect(await r).toBe(TIMEOUT);
    } finally {
      clearInterval(feeder);
    }
    expect(node.mailboxOf(p.pid).every((m) => m === 'noise')).toBe(true);
  });

  it('§1.5 #39 — a matching message before the timeout wins, and the expired timer leaves nothing behind', async () => {
    const node = testNode();
    const p = await probe(node);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
    const r = p.ctx.receive((m) => m === 'hit', { timeout: 30 });
    node.send(p.pid, 'hit');
    expect(await r).toBe('hit');
    // the next receive is not disturbed by the old timer (its 30 ms pass here, on the fake clock)
    const r2 = p.ctx.receive((m) => m === 'second', { timeout: 5000 });
    vi.advanceTimersByTime(40);
    await new Promise((res) => setImmediate(res));
    expect(vi.getTimerCount()).toBe(1); // r2's timer only
    node.send(p.pid, 'second');
    expect(await r2).toBe('second');
  });

  it('§1.5 #39 — timeout Infinity never times out (resolves when a message arrives)', async () => {
    const node = testNode();
    const p = await probe(node);
    const r = p.ctx.receive(undefined, { timeout: Infinity });
    setTimeout(() => node.send(p.pid, 'late'), 5);
    expect(await r).toBe('late');
  });

  it('§3 N7 / §1.5 #39 — a receive timeout beyond 2^31-1 ms does not fire early', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
    const node = testNode();
    const results: unknown[] = [];
    let started = false;
    node.spawn(async (ctx) => {
      started = true;
      results.push(await ctx.receive(undefined, { timeout: 2 ** 32 }));
    });
    await until(() => started);
    vi.advanceTimersByTime(2 ** 31 + 1000);
    await new Promise((r) => setImmediate(r));
    expect(results).toEqual([]);
    vi.advanceTimersByTime(2 ** 32 - 2 ** 31);
    await until(() => results.length === 1);
    expect(results).toEqual([TIMEOUT]);
  });

  it('§3 N8 — receive in a behaviour-style process rejects clearly', async () => {
    const node = testNode();
    const out = recorder(node);
    const b = node.spawn({
      handle(_m: unknown, ctx: ProcessContext) {
        ctx.receive().then(
          () => ctx.send(out.pid, 'resolved?!'),
          (e: unknown) => ctx.send(out.pid, e),
        );
      },
    });
    node.send(b, 'go');
    await until(() => out.msgs.length === 1);
    const e = out.msgs[0] as Error;
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toMatch(/process-style/);
    expect(e.message).toMatch(/handle/);
  });

  it('§1.5 — a second receive while one is pending rejects instead of stealing messages', async () => {
    const node = testNode();
    const p = await probe(node);
    const first = p.ctx.receive((m) => m === 'one');
    await expect(p.ctx.receive()).rejects.toThrow(TypeError);
    node.send(p.pid, 'one');
    expect(await first).toBe('one');
  });

  it('§1.5 — handled counts messages taken by receive; mailbox counts what is left', async () => {
    const node = testNode();
    const p = await probe(node);
    node.send(p.pid, 1);
    node.send(p.pid, 2);
    node.send(p.pid, 3);
    await p.ctx.receive((m) => m === 2);
    const info = node.processInfo(p.pid)!;
    expect(info.handled).toBe(1);
    expect(info.mailbox).toBe(2);
  });

  it('§1.4 — a message queued before a process-style body starts is received in order', async () => {
    const node = testNode();
    const out = recorder(node);
    const pid: Pid = node.spawn(async (ctx) => {
      for (let i = 0; i < 3; i++) ctx.send(out.pid, await ctx.receive());
    });
    node.send(pid, 'm1');
    node.send(pid, 'm2');
    node.send(pid, 'm3');
    await until(() => out.msgs.length === 3);
    expect(out.msgs).toEqual(['m1', 'm2', 'm3']);
  });
});
