import { afterEach, describe, expect, it, vi } from 'vitest';
import { resolveOptions } from '../src/options.js';
import { Cluster, nextEvent, until } from './helpers.js';
import { freeze, unfreeze } from '../src/testing/index.js';

const c = new Cluster();
afterEach(() => c.closeAll());
const FAST = { tickMs: 100, tickTimeoutMs: 400 };
const RECONNECT = { initialMs: 50, maxMs: 200, giveUpMs: 5000 };

describe('automatic reconnection', () => {
  it('options: on by default (250 ms → 5 s, 5 min), false turns it off, bad values are refused', () => {
    expect(resolveOptions({}).reconnect).toEqual({ initialMs: 250, maxMs: 5000, jitter: 0.25, giveUpMs: 300_000 });
    expect(resolveOptions({ reconnect: false }).reconnect).toBeNull();
    expect(() => resolveOptions({ reconnect: { initialMs: 100, maxMs: 50 } })).toThrow(RangeError);
  });

  it('a frozen peer is down with net_tick_timeout, and after it resumes the two reconnect by themselves', async () => {
    const a = await c.start('a@local', { ...FAST, reconnect: RECONNECT });
    const b = await c.start('b@local', { ...FAST, reconnect: RECONNECT });
    await a.t.connect(b.t.url);
    const down = nextEvent(a.t, 'nodedown', () => true, 3000);
    freeze(b.t, 'a@local');
    expect(await down).toEqual({ node: 'b@local', reason: 'net_tick_timeout' });
    // While b is stopped, a keeps trying (refused: b still holds the old connection).
    await a.log.wait((l) => l.level === 'debug' && /reconnect attempt/.test(l.msg));
    expect(a.t.reconnecting()).toEqual(['b@local']);

    const up = nextEvent(a.t, 'nodeup', (e) => e.node === 'b@local', 5000);
    unfreeze(b.t, 'a@local'); // SIGCONT: b sees its connection gone
    expect(await up).toEqual({ node: 'b@local', creation: b.node.creation, hidden: false });
    await until(() => b.t.isConnected('a@local') && a.t.reconnecting().length === 0 && b.t.reconnecting().length === 0, 3000, 'both sides settled');
    expect(a.t.nodes()).toEqual(['b@local']);
    expect(b.t.nodes()).toEqual(['a@local']);
    // The connection works.
    const got = new Promise<unknown>((resolve) => b.node.spawn(async (ctx) => resolve(await ctx.receive()), { name: 'sink' }));
    a.node.send({ name: 'sink', node: 'b@local' }, 'after reconnect');
    expect(await got).toBe('after reconnect');
    const lines = [...a.log.lines, ...b.log.lines];
    expect(lines.some((l) => l.level === 'info' && /reconnected/.test(l.msg))).toBe(true);
  });

  it('disconnect(name) is never undone by reconnection, on either side', async () => {
    const a = await c.start('a@local', { ...FAST, reconnect: RECONNECT });
    const b = await c.start('b@local', { ...FAST, reconnect: RECONNECT });
    await a.t.connect(b.t.url);
    const downB = nextEvent(b.t, 'nodedown');
    expect(a.t.disconnect('b@local')).toBe(true);
    expect((await downB).reason).toBe('connection_closed');
    // Bounded wait for something that must not happen: many times the reconnect delay.
    await expect(nextEvent(a.t, 'nodeup', () => true, 1000)).rejects.toThrow(/timed out/);
    expect(a.t.reconnecting()).toEqual([]);
    expect(b.t.reconnecting()).toEqual([]);
    expect(a.t.nodes()).toEqual([]);
  });

  it('reconnect: false keeps the old behaviour (no redial after a closed socket)', async () => {
    const a = await c.start('a@local', { ...FAST, reconnect: false });
    const b = await c.start('b@local', { ...FAST, reconnect: false });
    await a.t.connect(b.t.url);
    const down = nextEvent(a.t, 'nodedown');
    freeze(b.t, 'a@local');
    await down;
    expect(a.t.reconnecting()).toEqual([]);
  });

  it('a peer gone for good is retried with backoff until giveUpMs, then dropped; close() leaves no timer behind', async () => {
    const a = await c.start('a@local', { ...FAST, reconnect: { initialMs: 20, maxMs: 100, giveUpMs: 600 } });
    const b = await c.start('b@local', FAST);
    await a.t.connect(b.t.url);
    const down = nextEvent(a.t, 'nodedown');
    const t0 = Date.now();
    await b.t.close();
    expect((await down).reason).toBe('connection_closed');
    expect(a.t.reconnecting()).toEqual(['b@local']);
    await a.log.wait((l) => /giving up reconnecting/.test(l.msg), 3000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(550);
    expect(a.t.reconnecting()).toEqual([]);
    const attempts = a.log.lines.filter((l) => /reconnect attempt$/.test(l.msg));
    expect(attempts.length).toBeGreaterThanOrEqual(3);
    expect(attempts.length).toBeLessThan(30); // backoff, not a busy loop
    expect(attempts.every((l) => l.level === 'debug')).toBe(true);
    // An unreachable peer is not a warning on every attempt.
    expect(a.log.lines.some((l) => l.level === 'warn' && /connect failed/.test(l.msg))).toBe(false);

    // A pending retry is cleared by close(): capture its timer when scheduled, see it cleared.
    const x = await c.start('x@local', { ...FAST, reconnect: { initialMs: 60_000, maxMs: 60_000, giveUpMs: 600_000 } });
    const y = await c.start('y@local', FAST);
    await x.t.connect(y.t.url);
    const downX = nextEvent(x.t, 'nodedown');
    const setSpy = vi.spyOn(globalThis, 'setTimeout');
    const clearSpy = vi.spyOn(globalThis, 'clearTimeout');
    try {
      await y.t.close();
      await downX;
      expect(x.t.reconnecting()).toEqual(['y@local']);
      const idx = setSpy.mock.calls.findIndex((args) => typeof args[1] === 'number' && args[1] >= 45_000);
      expect(idx).toBeGreaterThanOrEqual(0);
      const handle = setSpy.mock.results[idx]!.value as NodeJS.Timeout;
      expect(handle.hasRef()).toBe(false); // never what keeps a process alive
      await x.t.close();
      expect(x.t.reconnecting()).toEqual([]);
      expect(clearSpy.mock.calls.some((args) => args[0] === handle)).toBe(true);
    } finally {
      setSpy.mockRestore();
      clearSpy.mockRestore();
    }
  });

  it('a restarted peer (new creation) at the same URL is reconnected: nodeup with the new creation', async () => {
    const a = await c.start('a@local', { ...FAST, reconnect: RECONNECT });
    const b1 = await c.start('b@local', FAST, 111);
    const port = Number(new URL(b1.t.url).port);
    await a.t.connect(b1.t.url);
    const down = nextEvent(a.t, 'nodedown');
    await b1.t.close();
    await down;
    const up = nextEvent(a.t, 'nodeup', (e) => e.node === 'b@local', 5000);
    await c.start('b@local', { ...FAST, port }, 222);
    expect(await up).toEqual({ node: 'b@local', creation: 222, hidden: false });
  });
});
