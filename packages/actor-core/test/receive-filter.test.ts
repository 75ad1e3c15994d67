import { describe, expect, it } from 'vitest';
import { exitOf, probe, nodesPerTest, until } from './helpers.js';
import type { Pid } from '../src/index.js';

/**
 * Rule: a receive filter is a guard. A filter that throws is no match (Erlang:
 * a guard that raises fails), the message stays queued in order, nobody
 * crashes, and a filter only ever runs in its receiver, never inside
 * another process's `send`.
 */

const node = nodesPerTest();

/** Throws for anything but `{ v: number }` (like a guard `V + 1 > 0` on a non-number). */
const picky = (m: unknown): boolean => (m as { v: { toFixed(): string } }).v.toFixed() !== '';

describe('receive filters that throw', () => {
  it('guard rule — a raising filter on a queued message is no match: the receiver lives, the message stays in order', async () => {
    const n = node();
    const got: unknown[] = [];
    const pid = n.spawn(async (ctx) => {
      await ctx.receive((m) => m === 'start');
      got.push(await ctx.receive(picky));
      got.push(await ctx.receive());
      got.push(await ctx.receive());
    });
    n.send(pid, 'x');
    n.send(pid, { v: 1 });
    n.send(pid, 'y');
    n.send(pid, 'start');
    await exitOf(n, pid);
    expect(got).toEqual([{ v: 1 }, 'x', 'y']);
  });

  it('guard rule — a raising filter on a message arriving while the receiver waits: the sender is not touched and the message is kept', async () => {
    const n = node();
    const p = await probe(n);
    const calledIn: string[] = [];
    let inSend = false;
    const got: unknown[] = [];
    const receiver = n.spawn(async (ctx) => {
      got.push(
        await ctx.receive((m) => {
          calledIn.push(inSend ? 'sender' : 'receiver');
          return picky(m);
        }),
      );
      got.push(await ctx.receive());
    });
    await until(() => n.processInfo(receiver)?.status === 'waiting');
    const sender: Pid = n.spawn({
      handle(_m: unknown, ctx) {
        inSend = true;
        ctx.send(receiver, 'bad');
        inSend = false;
        ctx.send(p.pid, 'sender still running');
      },
    });
    n.send(sender, 'go');
    await p.next((m) => m === 'sender still running');
    expect(n.isAlive(sender)).toBe(true);
    n.send(receiver, { v: 2 });
    await exitOf(n, receiver);
    expect(got).toEqual([{ v: 2 }, 'bad']);
    expect(calledIn.length).toBeGreaterThan(0);
    expect(calledIn.every((w) => w === 'receiver')).toBe(true);
  });

  it('guard rule — over a long mailbox (the specialised scan) a raising filter is no match and order is kept', async () => {
    const n = node();
    const got: unknown[] = [];
    const pid = n.spawn(async (ctx) => {
      await ctx.receive((m) => m === 'start');
      for (let i = 0; i < 3; i++) got.push(await ctx.receive(picky));
      got.push(await ctx.receive());
    });
    for (let i = 0; i < 10_000; i++) n.send(pid, `x${i}`);
    for (let i = 0; i < 3; i++) n.send(pid, { v: i });
    n.send(pid, 'start');
    await exitOf(n, pid);
    expect(got).toEqual([{ v: 0 }, { v: 1 }, { v: 2 }, 'x0']);
  });
});
