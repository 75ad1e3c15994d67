import { describe, expect, it, vi } from 'vitest';
import { CallTimeoutError, GenServer, type ProcessContext } from '../src/index.js';
import { testNode } from './helpers.js';

/** Blocks the thread (a long synchronous computation). */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* spin */
  }
}

/** A process that takes every call and never answers. */
function blackHole(ctx: ProcessContext): Promise<void> {
  return (async () => {
    for (;;) await ctx.receive();
  })();
}

describe('call timeouts without a clock read per call', () => {
  it('a timeout never fires early, even for a call made late in a long synchronous run after other calls', async () => {
    const node = testNode();
    const hole = node.spawn(blackHole);
    const results: { timeout: number; elapsed: number }[] = [];
    const track = (timeout: number): Promise<void> => {
      const at = performance.now();
      return GenServer.call(node, hole, 'q', timeout).then(
        () => expect.unreachable('no reply is ever sent'),
        (e: unknown) => {
          expect(e).toBeInstanceOf(CallTimeoutError);
          results.push({ timeout, elapsed: performance.now() - at });
        },
      );
    };
    const all: Promise<void>[] = [];
    // One synchronous run: a call, 60 ms of work, then calls due before that work ended if
    // their deadline came from a clock read at the first call (or the start of the run).
    all.push(track(1000));
    busy(60);
    all.push(track(30), track(1), track(0));
    busy(20);
    all.push(track(40));
    // And from inside processes, across scheduler turns, with work between calls.
    for (let i = 0; i < 5; i++) {
      all.push(
        new Promise<void>((resolve) => {
          node.spawn(async (ctx) => {
            busy(5 * i);
            const at = performance.now();
            const e = await GenServer.call(ctx, hole, 'q', 10 + i).catch((x: unknown) => x);
            expect(e).toBeInstanceOf(CallTimeoutError);
            results.push({ timeout: 10 + i, elapsed: performance.now() - at });
            resolve();
          });
        }),
      );
    }
    await Promise.all(all);
    expect(results).toHaveLength(10);
    for (const r of results) expect(r.elapsed, `timeout ${r.timeout}`).toBeGreaterThanOrEqual(r.timeout);
    // Not absurdly late either: the deadline is read right after the synchronous run.
    for (const r of results) expect(r.elapsed, `timeout ${r.timeout}`).toBeLessThan(r.timeout + 1000);
    expect(node.stats().pendingCalls).toBe(0);
    node.shutdown();
  });

  it('Infinity never times out; a reply before the deadline settles the call and leaves no timer due', async () => {
    const node = testNode();
    const hole = node.spawn(blackHole);
    let settled = false;
    void GenServer.call(node, hole, 'q', Infinity).then(
      () => (settled = true),
      () => (settled = true),
    );
    const echo = node.spawn(async (ctx) => {
      for (;;) {
        const m = (await ctx.receive()) as { $gen: 'call'; from: Parameters<typeof GenServer.reply>[1] };
        GenServer.reply(ctx, m.from, 'ok');
      }
    });
    expect(await GenServer.call(node, echo, 'x', 5)).toBe('ok');
    // A day on a fake clock: whatever timer there is runs; the Infinity call has none.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      vi.advanceTimersByTime(86_400_000);
      await new Promise((r) => setImmediate(r));
    } finally {
      vi.useRealTimers();
    }
    expect(settled).toBe(false);
    expect(node.stats().pendingCalls).toBe(1);
    node.shutdown();
  });
});
