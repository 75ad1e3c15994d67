import { afterEach, describe, expect, it } from 'vitest';
import { WaitTimeoutError, type Node, type Pid } from '@troupe/actor-core';
import { ProcessGroups, PubSub, Registry } from '../src/index.js';
import { cluster, shutdownAll } from './helpers.js';
import { startSups } from './dsup-helpers.js';

let nodes: Node[] = [];
afterEach(() => shutdownAll(nodes));

const fast = { discoveryMs: 50, antiEntropyMs: 300 };

describe('registry.whenRegistered', () => {
  it('resolves on another node once the name replicates there, and at once where it is known', async () => {
    const c = cluster(['a', 'b']);
    nodes = c.nodes;
    const [a, b] = c.nodes as [Node, Node];
    const [ra, rb] = await Promise.all([Registry.start(a, { name: 'agents', ...fast }), Registry.start(b, { name: 'agents', ...fast })]);
    const onB = rb.whenRegistered('worker', { timeoutMs: 3000 });
    const onA = ra.whenRegistered('worker', { timeoutMs: 3000 });
    const pid = a.spawn(async (ctx) => void (await ctx.receive()));
    expect(ra.register('worker', pid)).toBe('ok');
    expect((await onA).equals(pid)).toBe(true);
    expect((await onB).equals(pid)).toBe(true);
    expect((await rb.whenRegistered('worker')).equals(pid)).toBe(true);
  });

  it('rejects with WaitTimeoutError after timeoutMs', async () => {
    const c = cluster(['a']);
    nodes = c.nodes;
    const r = await Registry.start(c.nodes[0]!, { name: 'agents', ...fast });
    const e = await r.whenRegistered('ghost', { timeoutMs: 20 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WaitTimeoutError);
    expect((e as Error).message).toBe("timed out after 20 ms waiting for 'ghost' to be registered in agents on a@mem");
  });
});

describe('ProcessGroups.whenMembers and PubSub.whenMembers', () => {
  it('resolve once the member (group join, PubSub on the other node) replicated; WaitTimeoutError otherwise', async () => {
    const c = cluster(['a', 'b']);
    nodes = c.nodes;
    const [a, b] = c.nodes as [Node, Node];
    const [pa, pb] = await Promise.all([ProcessGroups.start(a, fast), ProcessGroups.start(b, fast)]);
    const waiting = pb.whenMembers('workers', { timeoutMs: 3000 });
    const w = a.spawn(async (ctx) => void (await ctx.receive()));
    pa.join('workers', w);
    const members = await waiting;
    expect(members.map((p) => p.toString())).toEqual([w.toString()]);
    const e = await pb.whenMembers('workers', { count: 2, timeoutMs: 20 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WaitTimeoutError);

    const sa = await PubSub.start(a, { name: 'events', ...fast });
    const both = sa.whenMembers({ count: 2, timeoutMs: 3000 });
    await PubSub.start(b, { name: 'events', ...fast });
    expect((await both).map((m) => m.node).sort()).toEqual(['a@mem', 'b@mem']);
  });
});

describe('DistributedSupervisor.whenRunning', () => {
  it('resolves on another node once the child is seen running there', async () => {
    const c = cluster(['a', 'b']);
    nodes = c.nodes;
    const [sa, sb] = await startSups(c.nodes);
    const seen = sb!.whenRunning('room:1', { timeoutMs: 3000 });
    const r = await sa!.startChild({ behaviour: 'worker', id: 'room:1', args: { start: 1 } });
    expect('ok' in (r as object)).toBe(true);
    expect((await seen).equals((r as { ok: Pid }).ok)).toBe(true);
    await expect(sb!.whenRunning('nobody', { timeoutMs: 20 })).rejects.toBeInstanceOf(WaitTimeoutError);
  });
});

describe('DistributedSupervisor.whenTargets', () => {
  it('resolves once a member that joins later is synced (no children: no diff), rejects bad counts and times out', async () => {
    const c = cluster(['a', 'b']);
    nodes = c.nodes;
    const [a, b] = c.nodes as [Node, Node];
    const [sa] = await startSups([a]);
    expect(await sa!.whenTargets(1)).toEqual(['a@mem']);
    const both = sa!.whenTargets(2, { timeoutMs: 3000 });
    await startSups([b]);
    expect(await both).toEqual(['a@mem', 'b@mem']);
    await expect(sa!.whenTargets(3, { timeoutMs: 20 })).rejects.toBeInstanceOf(WaitTimeoutError);
    await expect(sa!.whenTargets(0)).rejects.toThrow(/positive integer/);
  });
});
