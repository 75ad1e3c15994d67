import { describe, expect, it } from 'vitest';
import {
  BadArgError,
  NotExposedError,
  Pid,
  Ref,
  SpawnFailedError,
  SpawnNodeDownError,
  SpawnTimeoutError,
  isDownMessage,
  isExitMessage,
  type Node,
} from '../src/index.js';
import { probe, until } from './helpers.js';
import { cluster, forwarder } from './distribution-helpers.js';

function two(): { net: ReturnType<typeof cluster>['net']; a: Node; b: Node } {
  const { net, nodes } = cluster(['a', 'b']);
  const [a, b] = nodes as [Node, Node];
  // The allow-list on b: a forwarder to a pid given as argument, and a process that crashes at once.
  b.dist.expose('forwarder', (args) => {
    const [to] = args;
    if (!(to instanceof Pid)) throw new TypeError('forwarder needs a pid');
    return forwarder(to);
  });
  b.dist.expose('crasher', (args) => async () => {
    throw new Error(`crash ${String(args[0])}`);
  });
  b.dist.expose('trapper', () => ({ body: async (ctx) => void (await ctx.receive((m) => m === 'never')), opts: { trapExit: true } }));
  b.dist.expose('broken', () => 42 as unknown as () => void);
  return { net, a, b };
}

describe('distribution: remote spawn', () => {
  it('spawns an exposed behaviour with arguments (pids survive), from a process or from outside', async () => {
    const { a, b } = two();
    const pa = await probe(a);
    const pid = await a.dist.spawnRemote(pa.ctx, 'b@mem', 'forwarder', [pa.pid]);
    expect(pid).toBeInstanceOf(Pid);
    expect(pid.node).toBe('b@mem');
    expect(b.processInfo(pid)?.behaviour).toBe('forwarder');
    a.send(pid, 'ping');
    expect(await pa.next()).toEqual({ fwd: 'ping', by: pid });
    const other = await a.dist.spawnRemote(null, 'b@mem', 'forwarder', [pa.pid]);
    expect(b.isAlive(other)).toBe(true);
    expect(b.dist.exposed().sort()).toEqual(['broken', 'crasher', 'forwarder', 'trapper']);
  });

  it('typed errors: unknown node, name not exposed, factory throws, factory returns junk, timeout', async () => {
    const { net, a, b } = two();
    await expect(a.dist.spawnRemote(null, 'nowhere@mem', 'forwarder')).rejects.toBeInstanceOf(SpawnNodeDownError);
    const e = await a.dist.spawnRemote(null, 'b@mem', 'rm -rf', []).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NotExposedError);
    expect(e).toMatchObject({ code: 'TROUPE_ERR_NOT_EXPOSED', node: 'b@mem', behaviour: 'rm -rf', reason: 'not_exposed' });
    await expect(a.dist.spawnRemote(null, 'b@mem', 'forwarder', ['not a pid'])).rejects.toMatchObject({ reason: 'spawn_failed', message: expect.stringContaining('forwarder needs a pid') });
    await expect(a.dist.spawnRemote(null, 'b@mem', 'broken')).rejects.toBeInstanceOf(SpawnFailedError);
    b.dist.unexpose('crasher');
    await expect(a.dist.spawnRemote(null, 'b@mem', 'crasher')).rejects.toBeInstanceOf(NotExposedError);
    const before = b.processCount;
    net.pause(b, a); // the reply is held back
    await expect(a.dist.spawnRemote(null, 'b@mem', 'trapper', [], { timeoutMs: 20 })).rejects.toBeInstanceOf(SpawnTimeoutError);
    expect(b.processCount).toBe(before + 1); // it did start
    net.resume(b, a);
    // the late reply finds no requester: the orphan is killed (even though it traps exits)
    await until(() => b.processCount === before);
    // link/monitor without an origin process
    await expect(a.dist.spawnRemote(null, 'b@mem', 'trapper', [], { link: true })).rejects.toBeInstanceOf(BadArgError);
  });

  it('process_SUITE spawn_link — remote: the link exists before the child runs, so an instant crash gives its real reason', async () => {
    const { a } = two();
    const pa = await probe(a, { trapExit: true });
    const pid = await a.dist.spawnRemote(pa.ctx, 'b@mem', 'crasher', ['now'], { link: true });
    expect(await pa.next(isExitMessage)).toEqual({ type: 'EXIT', from: pid, reason: { error: expect.objectContaining({ message: 'crash now' }) } });
    expect(a.processInfo(pa.pid)!.links).toEqual([]);
  });

  it('spawn with monitor: [pid, ref], and the DOWN (even for an instant crash) uses that ref', async () => {
    const { a, b } = two();
    const pa = await probe(a);
    const [pid, ref] = await a.dist.spawnRemote(pa.ctx, 'b@mem', 'crasher', [1], { monitor: true });
    expect(ref).toBeInstanceOf(Ref);
    expect(await pa.next(isDownMessage)).toMatchObject({ type: 'DOWN', ref, object: pid, reason: { error: { message: 'crash 1' } } });
    const [p2, r2] = await a.dist.spawnRemote(pa.ctx, 'b@mem', 'trapper', [], { monitor: true, link: true });
    expect(b.processInfo(p2)).toMatchObject({ links: [pa.pid], monitoredBy: [pa.pid] });
    expect(pa.ctx.demonitor(r2, { info: true })).toBe(true);
    await until(() => b.processInfo(p2)?.monitoredBy.length === 0);
  });

  it('the origin dies before the reply: the linked child gets the origin’s exit signal', async () => {
    const { net, a, b } = two();
    const pb = await probe(b);
    b.dist.expose('watched', () => ({
      body: async (ctx) => {
        ctx.send(pb.pid, { started: ctx.self });
        await ctx.receive((m) => m === 'never');
      },
    }));
    net.pause(b, a);
    const origin = a.spawn(async (ctx) => {
      void a.dist.spawnRemote(ctx, 'b@mem', 'watched', [], { link: true }).catch(() => {});
      await ctx.receive((m) => m === 'die');
      ctx.exit('origin-gone');
    });
    const { started } = await pb.next<{ started: Pid }>();
    const m = pb.ctx.monitor(started);
    a.send(origin, 'die');
    await until(() => !a.isAlive(origin));
    net.resume(b, a);
    expect(await pb.next(isDownMessage)).toEqual({ type: 'DOWN', ref: m, object: started, reason: 'origin-gone' });
  });

  it('node goes down while a spawn is pending → SpawnNodeDownError', async () => {
    const { net, a } = two();
    net.pause(a, 'b@mem');
    const p = a.dist.spawnRemote(null, 'b@mem', 'trapper', []);
    void net.disconnect(a, 'b@mem', 'disconnect', { drop: true });
    await expect(p).rejects.toBeInstanceOf(SpawnNodeDownError);
  });

  it('spawnRemote to the own node uses the same allow-list, with link', async () => {
    const { a } = two();
    a.dist.expose('local-crasher', () => async () => {
      throw new Error('here');
    });
    const pa = await probe(a, { trapExit: true });
    const pid = await a.dist.spawnRemote(pa.ctx, 'a@mem', 'local-crasher', [], { link: true });
    expect(await pa.next(isExitMessage)).toMatchObject({ from: pid, reason: { error: { message: 'here' } } });
    await expect(a.dist.spawnRemote(null, 'a@mem', 'forwarder')).rejects.toBeInstanceOf(NotExposedError);
  });
});
