import { afterEach, describe, expect, it, vi } from 'vitest';
import { probe, recorder, nodesPerTest, until } from './helpers.js';
import { BadArgError, GenServer, TIMEOUT } from '../src/index.js';

/**
 * Rules: every duration (timers, receive and GenServer timeouts) is measured
 * on the monotonic clock, so a wall-clock step changes nothing; timers with
 * the same delay set in order fire in order; a delay that is not a
 * non-negative integer number of ms is a BadArgError (Erlang's badarg), and a
 * negative receive timeout is an error (Erlang's timeout_value), not a poll.
 */

const node = nodesPerTest();
afterEach(() => vi.restoreAllMocks());

/** Steps the wall clock by `ms` (negative: back), as NTP or a VM resume can. */
function stepWallClock(ms: number): void {
  const real = Date.now.bind(Date);
  vi.spyOn(Date, 'now').mockImplementation(() => real() + ms);
}

describe('timers on monotonic time', () => {
  it('timer_bif_SUITE:send_after_1 rule — a wall-clock step back does not delay sendAfter or startTimer', async () => {
    const n = node();
    const p = await probe(n);
    p.ctx.sendAfter(20, p.pid, 'plain');
    p.ctx.startTimer(20, p.pid, 'wrapped');
    stepWallClock(-3_600_000);
    expect(await p.next((m) => m === 'plain', 1000)).toBe('plain');
    expect(await p.next((m) => (m as { msg?: unknown }).msg === 'wrapped', 1000)).toBeTruthy();
  });

  it('timer_bif_SUITE:read_timer rule — readTimer and cancelTimer ignore wall-clock steps', async () => {
    const n = node();
    const p = await probe(n);
    const ref = p.ctx.sendAfter(10_000, p.pid, 'later');
    stepWallClock(3_600_000);
    const left = p.ctx.readTimer(ref);
    expect(left).toBeGreaterThan(9_000);
    expect(left).toBeLessThanOrEqual(10_000);
    stepWallClock(-3_600_000);
    const cancelled = p.ctx.cancelTimer(ref);
    expect(cancelled).toBeGreaterThan(9_000);
    expect(cancelled).toBeLessThanOrEqual(10_000);
  });

  it('rule — a receive timeout ignores a wall-clock step back', async () => {
    const n = node();
    const p = await probe(n);
    const waiting = p.ctx.receive(() => false, { timeout: 20 });
    stepWallClock(-3_600_000);
    const r = await Promise.race([waiting, new Promise((res) => setTimeout(() => res('stalled'), 1000))]);
    expect(r).toBe(TIMEOUT);
  });

  it('gen_server_SUITE:handle_event_timeout rule — a GenServer idle timeout ignores a wall-clock step back', async () => {
    const n = node();
    const p = await probe(n);
    await GenServer.start(n, {
      init: () => ({ ok: null, timeout: 20 }),
      handleInfo: (m: unknown, s: null) => {
        n.send(p.pid, { info: m });
        return { noreply: s };
      },
    }, undefined);
    stepWallClock(-3_600_000);
    expect(await p.next((m) => (m as { info?: unknown }).info === 'timeout', 1000)).toEqual({ info: 'timeout' });
  });

  it('timer_bif_SUITE rule — timers with the same delay set in order fire in order', async () => {
    const n = node();
    for (let round = 0; round < 20; round++) {
      const rec = recorder(n);
      for (let i = 0; i < 200; i++) n.sendAfter(3, rec.pid, i);
      await until(() => rec.msgs.length === 200, 2000);
      expect(rec.msgs).toEqual(Array.from({ length: 200 }, (_, i) => i));
    }
  });

  it('timer_bif_SUITE rule — a fractional, negative, NaN or infinite delay is badarg', () => {
    const n = node();
    const pid = recorder(n).pid;
    for (const bad of [1.5, -1, NaN, Infinity, -Infinity]) {
      expect(() => n.sendAfter(bad, pid, 'x')).toThrow(BadArgError);
      expect(() => n.startTimer(bad, pid, 'x')).toThrow(BadArgError);
    }
    expect(() => n.sendAfter('5' as unknown as number, pid, 'x')).toThrow(BadArgError);
  });

  it('receive rule — a negative or NaN receive timeout is an error (Erlang timeout_value), not a poll', async () => {
    const n = node();
    const p = await probe(n);
    await expect(p.ctx.receive(undefined, { timeout: -1 })).rejects.toBeInstanceOf(BadArgError);
    await expect(p.ctx.receive(undefined, { timeout: NaN })).rejects.toBeInstanceOf(BadArgError);
    expect(await p.ctx.receive(undefined, { timeout: 0 })).toBe(TIMEOUT);
  });
});
