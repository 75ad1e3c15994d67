import { describe, expect, it } from 'vitest';
import { testNode, probe } from './helpers.js';
import { isDownMessage, isExitMessage, type Pid } from '../src/index.js';

describe('smoke', () => {
  it('behaviour-style ping-pong and process-style receive', async () => {
    const node = testNode();
    const p = await probe(node);
    const echo = node.spawn<{ from: Pid; n: number }>({
      handle(m, ctx) {
        ctx.send(m.from, m.n + 1);
      },
    });
    node.send(echo, { from: p.pid, n: 1 });
    expect(await p.next()).toBe(2);
  });

  it('link crash propagates to trapping probe as EXIT', async () => {
    const node = testNode();
    const p = await probe(node, { trapExit: true });
    const child = p.ctx.spawnLink(async () => {
      throw new Error('boom');
    });
    const m = await p.next(isExitMessage);
    expect(m).toMatchObject({ type: 'EXIT', from: child, reason: { error: { message: 'boom' } } });
  });

  it('monitor gives DOWN', async () => {
    const node = testNode();
    const p = await probe(node);
    const [pid, ref] = p.ctx.spawnMonitor(async (ctx) => {
      await ctx.receive();
    });
    node.send(pid, 'go');
    const d = await p.next(isDownMessage);
    expect(d).toMatchObject({ type: 'DOWN', ref, object: pid, reason: 'normal' });
  });
});
