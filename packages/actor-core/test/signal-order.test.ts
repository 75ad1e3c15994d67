import { afterEach, describe, expect, it } from 'vitest';
import { probe, testNode } from './helpers.js';
import { cluster } from './distribution-helpers.js';
import { isDownMessage, isExitMessage, type MemoryNetwork, type Node } from '../src/index.js';

/**
 * Rule (checked with erl, OTP 25): a trapping process that is both linked to
 * and monitoring P gets EXIT first, then DOWN, whether P is local or remote;
 * when the connection to P's node is lost: EXIT, then DOWN, then nodedown.
 */

let live: { nodes: Node[]; net?: MemoryNetwork }[] = [];
afterEach(() => {
  for (const c of live) for (const n of c.nodes) n.shutdown();
  live = [];
});

const kind = (m: unknown): string => (isExitMessage(m) ? 'EXIT' : isDownMessage(m) ? 'DOWN' : ((m as { type?: string })?.type ?? 'other'));

describe('EXIT before DOWN (signal order)', () => {
  it('signal_SUITE:monitor_order rule — local P exits: EXIT then DOWN', async () => {
    const n = testNode();
    live.push({ nodes: [n] });
    const p = await probe(n, { trapExit: true });
    const target = n.spawn(async (ctx) => {
      await ctx.receive();
      ctx.exit('bye');
    });
    p.ctx.link(target);
    p.ctx.monitor(target);
    n.send(target, 'go');
    expect([kind(await p.next()), kind(await p.next())]).toEqual(['EXIT', 'DOWN']);
  });

  it('signal_SUITE:monitor_order rule — local P killed: EXIT then DOWN', async () => {
    const n = testNode();
    live.push({ nodes: [n] });
    const p = await probe(n, { trapExit: true });
    const target = n.spawn({ handle() {} });
    p.ctx.monitor(target);
    p.ctx.link(target);
    n.exit(target, 'kill');
    expect([kind(await p.next()), kind(await p.next())]).toEqual(['EXIT', 'DOWN']);
  });

  it('signal_SUITE:monitor_order rule — remote P exits: EXIT then DOWN', async () => {
    const { net, nodes } = cluster(['a', 'b']);
    live.push({ nodes, net });
    const [a, b] = nodes as [Node, Node];
    const p = await probe(a, { trapExit: true });
    const target = b.spawn(async (ctx) => {
      await ctx.receive();
      ctx.exit('bye');
    });
    p.ctx.link(target);
    p.ctx.monitor(target);
    await net.settled();
    a.send(target, 'go');
    expect([kind(await p.next()), kind(await p.next())]).toEqual(['EXIT', 'DOWN']);
  });

  it('erl_distribution_SUITE rule — connection lost: EXIT, then DOWN, then nodedown', async () => {
    const { net, nodes } = cluster(['a', 'b']);
    live.push({ nodes, net });
    const [a, b] = nodes as [Node, Node];
    const p = await probe(a, { trapExit: true });
    const target = b.spawn(async (ctx) => void (await ctx.receive()));
    a.dist.monitorNodes(p.pid, true);
    p.ctx.link(target);
    p.ctx.monitor(target);
    await net.disconnect(a, b);
    expect([kind(await p.next()), kind(await p.next()), kind(await p.next())]).toEqual(['EXIT', 'DOWN', 'nodedown']);
  });
});
