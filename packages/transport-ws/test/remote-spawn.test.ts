import { afterEach, describe, expect, it } from 'vitest';
import {
  NotExposedError,
  Pid,
  Ref,
  SpawnFailedError,
  SpawnNodeDownError,
  isDownMessage,
  isExitMessage,
  type DownMessage,
  type ExitMessage,
} from '@troupe/actor-core';
import { Cluster, nextEvent, probe, type TestNode } from './helpers.js';

const c = new Cluster();
afterEach(() => c.closeAll());

/** a and b connected; b exposes a forwarder, a crasher and a process that waits forever. */
async function pair(): Promise<[TestNode, TestNode]> {
  const a = await c.start('a@local');
  const b = await c.start('b@local');
  await a.t.connect(b.t.url);
  b.node.dist.expose('forwarder', ([to]) => {
    if (!(to instanceof Pid)) throw new TypeError('forwarder needs a pid');
    return { handle: (m, ctx) => ctx.send(to, { fwd: m, by: ctx.self }) };
  });
  b.node.dist.expose('crasher', ([why]) => async () => {
    throw new Error(`crash ${String(why)}`);
  });
  b.node.dist.expose('waiter', () => async (ctx) => void (await ctx.receive((m) => m === 'never')));
  return [a, b];
}

describe('remote spawn over WebSocket (spawn_request)', () => {
  it('spawns an exposed behaviour with arguments; pids in args and messages work', async () => {
    const [a, b] = await pair();
    const pa = await probe(a.node);
    const pid = await a.node.dist.spawnRemote(pa.ctx, 'b@local', 'forwarder', [pa.pid]);
    expect(pid.node).toBe('b@local');
    expect(b.node.processInfo(pid)?.behaviour).toBe('forwarder');
    a.node.send(pid, 'ping');
    const m = await pa.next<{ fwd: string; by: Pid }>();
    expect(m.fwd).toBe('ping');
    expect(m.by.equals(pid)).toBe(true);
  });

  it('typed errors: not exposed, factory refuses, node not connected', async () => {
    const [a] = await pair();
    await expect(a.node.dist.spawnRemote(null, 'b@local', 'child_process')).rejects.toBeInstanceOf(NotExposedError);
    await expect(a.node.dist.spawnRemote(null, 'b@local', 'forwarder', ['nope'])).rejects.toBeInstanceOf(SpawnFailedError);
    await expect(a.node.dist.spawnRemote(null, 'zz@local', 'forwarder', [])).rejects.toBeInstanceOf(SpawnNodeDownError);
  });

  it('process_SUITE spawn_link — remote: an instant crash reaches the origin with its real reason', async () => {
    const [a] = await pair();
    const pa = await probe(a.node, { trapExit: true });
    const pid = await a.node.dist.spawnRemote(pa.ctx, 'b@local', 'crasher', ['now'], { link: true });
    const e = await pa.next<ExitMessage>(isExitMessage);
    expect(e.from.equals(pid)).toBe(true);
    expect(e.reason).toMatchObject({ error: { message: 'crash now' } });
  });

  it('spawn with monitor gives [pid, ref]; the DOWN uses that ref', async () => {
    const [a] = await pair();
    const pa = await probe(a.node);
    const [pid, ref] = await a.node.dist.spawnRemote(pa.ctx, 'b@local', 'crasher', [2], { monitor: true });
    expect(ref).toBeInstanceOf(Ref);
    const d = await pa.next<DownMessage>(isDownMessage);
    expect(d.ref.equals(ref)).toBe(true);
    expect((d.object as Pid).equals(pid)).toBe(true);
    expect(d.reason).toMatchObject({ error: { message: 'crash 2' } });
  });

  it('a spawned, linked and monitored child: its node going down gives noconnection for both', async () => {
    const [a, b] = await pair();
    const pa = await probe(a.node, { trapExit: true });
    const [pid, ref] = await a.node.dist.spawnRemote(pa.ctx, 'b@local', 'waiter', [], { link: true, monitor: true });
    expect(b.node.processInfo(pid)).toMatchObject({ links: [expect.anything()], monitoredBy: [expect.anything()] });
    const down = nextEvent(a.t, 'nodedown', (e) => e.node === 'b@local');
    await b.t.close();
    await down;
    const d = await pa.next<DownMessage>(isDownMessage);
    expect(d.ref.equals(ref)).toBe(true);
    expect(d.reason).toBe('noconnection');
    const x = await pa.next<ExitMessage>(isExitMessage);
    expect(x.from.equals(pid)).toBe(true);
    expect(x.reason).toBe('noconnection');
  });
});
