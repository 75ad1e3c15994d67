import { describe, expect, it } from 'vitest';
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

/** Timers that keep this process alive (an unref'd timer is not counted). */
const liveTimers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('the shared call timer keeps the program alive only while a timed call is pending', () => {
  it('answered calls leave no live timer behind (a program is not kept alive by their timeouts)', async () => {
    const node = testNode();
    await GenServer.start(node, echo, null, { name: 'echo' });
    const base = liveTimers();
    expect(await GenServer.call(node, 'echo', 'a', 60_000)).toBe('a');
    expect(liveTimers()).toBe(base);
    expect(await Promise.all([GenServer.call(node, 'echo', 'b', 10_000), GenServer.call(node, 'echo', 'c', 20_000)])).toEqual(['b', 'c']);
    expect(liveTimers()).toBe(base);
    node.shutdown();
  });

  it('a call still pending after another settled keeps the timer live, and still times out', async () => {
    const node = testNode();
    await GenServer.start(node, echo, null, { name: 'echo' });
    const hole = node.spawn(blackHole);
    const base = liveTimers();
    const late = GenServer.call(node, hole, 'never', 200).catch((e: unknown) => e);
    expect(await GenServer.call(node, 'echo', 'x', 1_000)).toBe('x');
    expect(liveTimers()).toBe(base + 1);
    expect(await late).toBeInstanceOf(CallTimeoutError);
    node.shutdown();
  });

  it('a call to a server that dies leaves no live timer either', async () => {
    const node = testNode();
    const hole = node.spawn(blackHole);
    const base = liveTimers();
    const p = GenServer.call(node, hole, 'q', 30_000).catch((e: unknown) => e);
    await Promise.resolve();
    node.exit(hole, 'kill');
    await p;
    expect(liveTimers()).toBe(base);
    node.shutdown();
  });
});
