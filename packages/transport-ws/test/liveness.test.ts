import { afterEach, describe, expect, it, vi } from 'vitest';
import { Pid, type DownMessage, type ExitMessage } from '@troupe/actor-core';
import { Liveness, alignedTimer } from '../src/ticker.js';
import { resolveOptions } from '../src/options.js';
import { Cluster, nextEvent, probe } from './helpers.js';
import { freeze } from '../src/testing/index.js';

const c = new Cluster();
afterEach(() => c.closeAll());
const remote = (p: Pid): Pid => new Pid(p.node, p.id, p.creation);
const isDown = (m: unknown): m is DownMessage => (m as DownMessage)?.type === 'DOWN';
const isExit = (m: unknown): m is ExitMessage => (m as ExitMessage)?.type === 'EXIT';

describe('liveness (ticks)', () => {
  it('Liveness: checked once per interval, ticks only when idle; times out after timeoutMs of silence', () => {
    const l = new Liveness(0);
    expect(l.check(100, 100, 400)).toBe('tick');
    l.sent++; // the tick, written ...
    l.ticked(); // ... is not the next interval's traffic
    expect(l.check(200, 100, 400)).toBe('tick'); // an idle link ticks every interval
    l.sent++;
    l.ticked();
    l.sent++; // data went out, and came in
    l.received++;
    expect(l.check(300, 100, 400)).toBe(null); // something was sent during the interval
    expect(l.check(398, 100, 400)).toBe('tick'); // a check fired 2 ms early still ticks
    for (const at of [500, 600]) {
      l.sent++;
      l.ticked();
      expect(l.check(at, 100, 400)).toBe('tick');
    }
    expect(l.check(689, 100, 400)).toBe(null); // heard as of the check at 300: silent 389 ms
    expect(l.check(700, 100, 400)).toBe('timeout');
    l.received++;
    expect(l.heardSinceCheck()).toBe(true);
    expect(l.check(800, 100, 400)).not.toBe('timeout');
  });

  it('alignedTimer: calls at the wall clock\'s multiples of the period, from any start, until stopped', () => {
    vi.useFakeTimers({ now: 1_000_037 });
    try {
      const at: number[] = [];
      const t = alignedTimer(250, () => at.push(Date.now()));
      vi.advanceTimersByTime(1000);
      expect(at).toEqual([1_000_250, 1_000_500, 1_000_750, 1_001_000]);
      t.stop();
      vi.advanceTimersByTime(1000);
      expect(at).toHaveLength(4);
    } finally {
      vi.useRealTimers();
    }
  });

  it('defaults detect a silent peer within 5 s (4 s timeout, 1 s ticks); 1 s is configurable', () => {
    const d = resolveOptions({});
    expect(d.tickTimeoutMs + d.tickMs).toBeLessThanOrEqual(5000);
    const fast = resolveOptions({ tickMs: 250, tickTimeoutMs: 1000 });
    expect(fast.tickTimeoutMs + fast.tickMs).toBeLessThanOrEqual(1250);
    expect(() => resolveOptions({ tickMs: 500, tickTimeoutMs: 600 })).toThrow(RangeError);
  });

  it('an idle connection stays up: ticks keep it alive', async () => {
    const a = await c.start('a@local', { tickMs: 100, tickTimeoutMs: 400 });
    const b = await c.start('b@local', { tickMs: 100, tickTimeoutMs: 400 });
    await a.t.connect(b.t.url);
    // Bounded wait for something that must not happen: 3x the tick timeout.
    await expect(nextEvent(a.t, 'nodedown', () => true, 1200)).rejects.toThrow(/timed out/);
    expect(a.t.nodes()).toEqual(['b@local']);
  });

  it('a peer that stops (reading, writing, ticking) is down with net_tick_timeout, never before timeout − tick', async () => {
    const a = await c.start('a@local', { tickMs: 100, tickTimeoutMs: 400 });
    const b = await c.start('b@local', { tickMs: 100, tickTimeoutMs: 400 });
    await a.t.connect(b.t.url);
    const pa = await probe(a.node, { trapExit: true });
    const pb = await probe(b.node);
    pa.ctx.link(remote(pb.pid));
    // Bounded wait (several times timeout + tick); how fast detection is on a loaded machine is not asserted.
    const down = nextEvent(a.t, 'nodedown', () => true, 3000);
    const t0 = performance.now();
    freeze(b.t, 'a@local');
    expect(await down).toEqual({ node: 'b@local', reason: 'net_tick_timeout' });
    // Never before the peer was silent for the timeout less one tick (checked once per tick).
    expect(performance.now() - t0).toBeGreaterThanOrEqual(400 - 100 - 50);
    expect((await pa.next(isExit)).reason).toBe('noconnection');
    expect(a.log.lines.some((l) => l.level === 'warn' && /tick timeout/.test(l.msg))).toBe(true);
  });
});

describe('restart with a new creation', () => {
  it('reconnect after a peer restarts: new creation, old pids get noproc, never a new process', async () => {
    const a = await c.start('a@local');
    const b1 = await c.start('b@local', {}, 111);
    await a.t.connect(b1.t.url);
    const pb = await probe(b1.node);
    const old = remote(pb.pid);
    const pa = await probe(a.node, { trapExit: true });
    pa.ctx.monitor(old);
    const down = nextEvent(a.t, 'nodedown');
    await b1.t.close();
    await down;
    expect((await pa.next(isDown)).reason).toBe('noconnection');

    const b2 = await c.start('b@local', {}, 222);
    // The new incarnation's first processes get the same ids as the old ones had.
    const fresh = await probe(b2.node);
    expect(fresh.pid.id).toBe(old.id);
    const up = nextEvent(a.t, 'nodeup');
    await b2.t.connect(a.t.url);
    expect(await up).toEqual({ node: 'b@local', creation: 222, hidden: false });
    expect(a.node.dist.creationOf('b@local')).toBe(222);

    pa.ctx.monitor(old);
    expect((await pa.next(isDown)).reason).toBe('noproc');
    pa.ctx.link(old);
    expect((await pa.next(isExit)).reason).toBe('noproc');
    a.node.send(old, 'for the old incarnation');
    a.node.send(remote(fresh.pid), 'for the new one');
    expect(await fresh.next()).toBe('for the new one');
  });

  it('a new incarnation connecting while the old connection looks alive replaces it', async () => {
    const a = await c.start('a@local');
    const b1 = await c.start('b@local', {}, 111);
    await a.t.connect(b1.t.url);
    freeze(b1.t, 'a@local'); // the old incarnation hangs, its socket still open
    const events: string[] = [];
    a.t.on('nodedown', (e) => events.push(`down:${e.node}:${e.reason}`));
    a.t.on('nodeup', (e) => events.push(`up:${e.node}:${e.creation}`));
    const b2 = await c.start('b@local', {}, 222);
    await b2.t.connect(a.t.url);
    expect(events).toEqual(['down:b@local:replaced', 'up:b@local:222']);
    expect(a.t.peer('b@local')?.creation).toBe(222);
  });
});
