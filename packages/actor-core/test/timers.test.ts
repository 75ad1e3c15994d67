import { afterEach, describe, expect, it, vi } from 'vitest';
import { probe, recorder, sleeper, testNode, until } from './helpers.js';
import { BadArgError, Ref, type TimeoutMessage } from '../src/index.js';

afterEach(() => {
  vi.useRealTimers();
});

/** A few event-loop turns (setImmediate is not faked), for fake-timer tests where the clock is frozen. */
async function turns(n = 3): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

describe('timer_bif_SUITE (2.C)', () => {
  it('timer_bif_SUITE:send_after_1 — sendAfter delivers the message after T ms, not before, and returns a Ref', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
    const node = testNode();
    const r = recorder(node);
    const ref = node.sendAfter(25, r.pid, 'tick');
    expect(ref).toBeInstanceOf(Ref);
    expect(node.readTimer(ref)).toBe(25);
    vi.advanceTimersByTime(24);
    await turns();
    expect(r.msgs).toEqual([]);
    expect(node.readTimer(ref)).toBe(1);
    vi.advanceTimersByTime(1);
    await turns();
    expect(r.msgs).toEqual(['tick']);
    expect(node.readTimer(ref)).toBe(false);
  });

  it('timer_bif_SUITE:send_after_2 — sendAfter 0 delivers; a process can set timers to itself', async () => {
    const node = testNode();
    const p = await probe(node);
    p.ctx.sendAfter(0, p.pid, 'now');
    expect(await p.next()).toBe('now');
  });

  it('timer_bif_SUITE:send_after_3 — many timers deliver each message exactly once', async () => {
    const node = testNode();
    const r = recorder(node);
    for (let i = 0; i < 200; i++) node.sendAfter(i % 7, r.pid, i);
    await until(() => r.msgs.length === 200);
    expect([...(r.msgs as number[])].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(node.stats().timers).toBe(0);
  });

  it('timer_bif_SUITE:start_timer_1 — startTimer delivers { type: timeout, ref, msg } with the returned ref', async () => {
    const node = testNode();
    const p = await probe(node);
    const ref = p.ctx.startTimer(5, p.pid, { payload: 1 });
    const m = await p.next<TimeoutMessage>();
    expect(m).toEqual({ type: 'timeout', ref, msg: { payload: 1 } });
    expect(m.ref.equals(ref)).toBe(true);
  });

  it('timer_bif_SUITE:cancel_timer_1 — cancel returns the remaining ms and the message never arrives; a second cancel is false', async () => {
    const node = testNode();
    const p = await probe(node);
    // performance.now (the timers' clock) is frozen while the remaining times are read, so they are exact.
    vi.useFakeTimers({ toFake: ['Date', 'performance'] });
    const ref = node.sendAfter(1000, p.pid, 'never');
    vi.advanceTimersByTime(100);
    expect(node.cancelTimer(ref)).toBe(900);
    expect(node.cancelTimer(ref)).toBe(false);
    expect(node.readTimer(ref)).toBe(false);
    expect(node.stats().timers).toBe(0);

    const short = node.sendAfter(10, p.pid, 'short-never');
    vi.advanceTimersByTime(3);
    expect(node.cancelTimer(short)).toBe(7);
    vi.useRealTimers();
    expect(await p.none((m) => m === 'short-never', 40)).toBe(true);
  });

  it('Appendix A — cancel after the timer fired returns false, and the delivered message stays', async () => {
    const node = testNode();
    const r = recorder(node);
    const ref = node.sendAfter(1, r.pid, 'fired');
    await until(() => r.msgs.length === 1);
    expect(node.cancelTimer(ref)).toBe(false);
    expect(r.msgs).toEqual(['fired']);
  });

  it('timer_bif_SUITE:read_timer_trivial / read_timer — readTimer gives the remaining ms while pending, false after firing', async () => {
    const node = testNode();
    const p = await probe(node);
    vi.useFakeTimers({ toFake: ['Date', 'performance'] }); // frozen while read: exact values
    const ref = node.startTimer(40, p.pid, 'x');
    expect(node.readTimer(ref)).toBe(40);
    vi.advanceTimersByTime(15);
    expect(node.readTimer(ref)).toBe(25);
    expect(p.ctx.readTimer(ref)).toBe(25);
    vi.useRealTimers();
    expect(await p.next()).toEqual({ type: 'timeout', ref, msg: 'x' });
    expect(node.readTimer(ref)).toBe(false);
    expect(node.readTimer(node.makeRef())).toBe(false);
    expect(node.cancelTimer(node.makeRef())).toBe(false);
  });

  it('timer_bif_SUITE:cleanup — a timer aimed at a pid is discarded when the pid dies (readTimer false, nothing left)', async () => {
    const node = testNode();
    const t = sleeper(node);
    const before = node.stats().timers;
    const r1 = node.sendAfter(10_000, t, 'x');
    const r2 = node.startTimer(10_000, t, 'y');
    expect(node.stats().timers).toBe(before + 2);
    node.exit(t, 'kill');
    expect(node.readTimer(r1)).toBe(false);
    expect(node.readTimer(r2)).toBe(false);
    expect(node.cancelTimer(r1)).toBe(false);
    expect(node.stats().timers).toBe(before);
  });

  it('timer_bif_SUITE:cleanup — a timer for a process that exits normally is discarded too', async () => {
    const node = testNode();
    const t = node.spawn(async (ctx) => {
      await ctx.receive((m) => m === 'stop');
    });
    const ref = node.sendAfter(10_000, t, 'x');
    expect(node.stats().timers).toBe(1);
    node.send(t, 'stop');
    await until(() => !node.isAlive(t));
    expect(node.readTimer(ref)).toBe(false);
    expect(node.stats().timers).toBe(0);
  });

  it('timer_bif_SUITE:cleanup — sendAfter to a dead pid still returns a ref, which reads as false and never fires', async () => {
    const node = testNode();
    const dead = node.spawn(async () => {});
    await until(() => !node.isAlive(dead));
    const ref = node.sendAfter(1, dead, 'x');
    expect(ref).toBeInstanceOf(Ref);
    expect(node.readTimer(ref)).toBe(false);
    expect(node.stats().timers).toBe(0);
  });

  it('timer_bif_SUITE:registered_process — a timer to a name resolves the name when it expires', async () => {
    const node = testNode();
    const first = recorder(node, { name: 'target' });
    const ref = node.sendAfter(20, 'target', 'for-whoever');
    node.unregister('target');
    const second = recorder(node, { name: 'target' });
    await until(() => second.msgs.length === 1);
    expect(second.msgs).toEqual(['for-whoever']);
    expect(first.msgs).toEqual([]);
    expect(node.readTimer(ref)).toBe(false);
  });

  it('timer_bif_SUITE:registered_process — the name holder dying does not cancel a name timer; the next holder gets it', async () => {
    const node = testNode();
    const a = sleeper(node, { name: 'svc' });
    vi.useFakeTimers({ toFake: ['Date', 'performance'] }); // frozen while read: exact value
    const ref = node.startTimer(15, 'svc', 'm');
    node.exit(a, 'kill');
    expect(node.readTimer(ref)).toBe(15);
    vi.useRealTimers();
    const b = recorder(node, { name: 'svc' });
    await until(() => b.msgs.length === 1);
    expect(b.msgs[0]).toEqual({ type: 'timeout', ref, msg: 'm' });
  });

  it('timer_bif_SUITE:registered_process — a name not registered at expiry drops the message silently', async () => {
    const node = testNode();
    const escaped: unknown[] = [];
    const on = (e: unknown): void => void escaped.push(e);
    process.on('uncaughtException', on);
    try {
      const ref = node.sendAfter(1, 'nobody', 'x');
      // The timer is removed and its send attempted in one synchronous step, so once
      // readTimer says false the failed send has already happened.
      await until(() => node.readTimer(ref) === false);
    } finally {
      process.off('uncaughtException', on);
    }
    expect(escaped).toEqual([]);
    expect(node.stats().timers).toBe(0);
  });

  it('§1.7 — bad delays raise badarg', async () => {
    const node = testNode();
    const p = await probe(node);
    for (const bad of [-1, Number.NaN, '10', undefined, null]) {
      expect(() => node.sendAfter(bad as number, p.pid, 'x'), String(bad)).toThrow(BadArgError);
      expect(() => node.startTimer(bad as number, p.pid, 'x'), String(bad)).toThrow(BadArgError);
    }
    expect(node.stats().timers).toBe(0);
  });

  it('timer_bif_SUITE:send_after_big — a 2^33 ms timer is accepted, reads back ~2^33 and does not fire early (real timers)', async () => {
    const node = testNode();
    const p = await probe(node);
    const big = 2 ** 33;
    vi.useFakeTimers({ toFake: ['Date', 'performance'] }); // frozen while read back: exact values; the timers stay real
    const ref = node.sendAfter(big, p.pid, 'big');
    const sref = node.startTimer(2 ** 31, p.pid, 'big2');
    expect(node.readTimer(ref)).toBe(big);
    expect(node.readTimer(sref)).toBe(2 ** 31);
    vi.useRealTimers();
    // Node's setTimeout would fire a >2^31-1 delay after 1 ms: it must not happen here.
    expect(await p.none((m) => m === 'big' || (m as TimeoutMessage | null)?.type === 'timeout', 30)).toBe(true);
    expect(node.cancelTimer(ref)).toBeGreaterThan(big - 1000);
    expect(node.cancelTimer(sref)).toBeGreaterThan(2 ** 31 - 1000);
  });

  it('timer_bif_SUITE:start_timer_big — chained long timers fire at the deadline, not before (fake timers)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
    const node = testNode();
    const r = recorder(node);
    const big = 2 ** 31 + 5000;
    const ref = node.startTimer(big, r.pid, 'late');
    const huge = node.sendAfter(2 ** 33, r.pid, 'huge');
    vi.advanceTimersByTime(2 ** 31 - 1);
    await turns();
    expect(r.msgs).toEqual([]);
    expect(node.readTimer(ref)).toBe(5001);
    vi.advanceTimersByTime(4000);
    await turns();
    expect(r.msgs).toEqual([]);
    expect(node.readTimer(ref)).toBe(1001);
    vi.advanceTimersByTime(1001);
    await turns();
    expect(r.msgs).toEqual([{ type: 'timeout', ref, msg: 'late' }]);
    expect(node.readTimer(ref)).toBe(false);
    expect(node.readTimer(huge)).toBe(2 ** 33 - big);
    vi.advanceTimersByTime(2 ** 33 - big - 1);
    await turns();
    expect(r.msgs).toHaveLength(1);
    vi.advanceTimersByTime(1);
    await turns();
    expect(r.msgs).toHaveLength(2);
    expect(r.msgs[1]).toBe('huge');
    expect(node.stats().timers).toBe(0);
  });

  it('§1.7 #47 — timers die with the node: shutdown clears every timer', async () => {
    const node = testNode();
    node.sendAfter(10_000, 'somebody', 'x');
    const t = sleeper(node);
    node.sendAfter(10_000, t, 'y');
    expect(node.stats().timers).toBe(2);
    node.shutdown();
    expect(node.stats().timers).toBe(0);
  });
});
