import { afterEach, describe, expect, it, vi } from 'vitest';
import { CallTimeoutError, GenServer, type ProcessContext } from '../src/index.js';
import { testNode } from './helpers.js';

const echo: GenServer<null, string, never, string> = {
  init: () => ({ ok: null }),
  handleCall: (req) => ({ reply: req, state: null }),
};

function blackHole(ctx: ProcessContext): Promise<void> {
  return (async () => {
    for (;;) await ctx.receive();
  })();
}

describe('the shared call timer lives only while a timed call is pending', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('an answered call leaves no timer behind (a program is not kept alive by its timeout)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const node = testNode();
    const r = await GenServer.start(node, echo, null, { name: 'echo' });
    expect('ok' in (r as object)).toBe(true);
    expect(await GenServer.call(node, 'echo', 'a', 60_000)).toBe('a');
    expect(vi.getTimerCount()).toBe(0);
    const both = await Promise.all([GenServer.call(node, 'echo', 'b', 10_000), GenServer.call(node, 'echo', 'c', 20_000)]);
    expect(both).toEqual(['b', 'c']);
    expect(vi.getTimerCount()).toBe(0);
    node.shutdown();
  });

  it('the timer stays armed for a call still pending after another settled, and still times it out', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const node = testNode();
    await GenServer.start(node, echo, null, { name: 'echo' });
    const hole = node.spawn(blackHole);
    const late = GenServer.call(node, hole, 'never', 5_000).catch((e: unknown) => e);
    expect(await GenServer.call(node, 'echo', 'x', 1_000)).toBe('x');
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(5_100);
    expect(await late).toBeInstanceOf(CallTimeoutError);
    expect(vi.getTimerCount()).toBe(0);
    node.shutdown();
  });

  it('a call to a server that dies clears the timer too', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const node = testNode();
    const hole = node.spawn(blackHole);
    const p = GenServer.call(node, hole, 'q', 30_000).catch((e: unknown) => e);
    await Promise.resolve();
    node.exit(hole, 'kill');
    await p;
    expect(vi.getTimerCount()).toBe(0);
    node.shutdown();
  });
});
