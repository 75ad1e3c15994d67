import { afterEach, describe, expect, it } from 'vitest';
import { GenServer, Pid, isCall, type DownMessage, type ExitMessage, type NodeDownMessage } from '@troupe/actor-core';
import { Cluster, nextEvent, probe, until, type TestNode } from './helpers.js';

const c = new Cluster();
afterEach(() => c.closeAll());

/** A copy without the local process cache, as a pid that crossed the wire would be. */
const remote = (p: Pid): Pid => new Pid(p.node, p.id, p.creation);
const isExit = (m: unknown): m is ExitMessage => (m as ExitMessage)?.type === 'EXIT';
const isDown = (m: unknown): m is DownMessage => (m as DownMessage)?.type === 'DOWN';

async function pair(): Promise<[TestNode, TestNode]> {
  const a = await c.start('a@local');
  const b = await c.start('b@local');
  await a.t.connect(b.t.url);
  return [a, b];
}

describe('remote signals over WebSocket, with local semantics', () => {
  it('send by pid and by { name, node }; a pid inside a message works for the reply', async () => {
    const [a, b] = await pair();
    const pa = await probe(a.node);
    const pb = await probe(b.node);
    b.node.register('echo', pb.pid);
    a.node.send(remote(pb.pid), { hello: 1, from: pa.pid });
    const m = await pb.next<{ hello: number; from: Pid }>();
    expect(m.hello).toBe(1);
    expect(m.from).toBeInstanceOf(Pid);
    expect(m.from.equals(pa.pid)).toBe(true);
    b.node.send(m.from, 'reply');
    expect(await pa.next()).toBe('reply');
    a.node.send({ name: 'echo', node: 'b@local' }, 'by-name');
    expect(await pb.next()).toBe('by-name');
  });

  it('link across nodes: the exit reason crosses; a trapping process gets EXIT', async () => {
    const [a, b] = await pair();
    const pa = await probe(a.node, { trapExit: true });
    const pb = await probe(b.node);
    pa.ctx.link(remote(pb.pid));
    // A round trip so the link is known on b before b's process exits.
    a.node.send(remote(pb.pid), 'sync');
    await pb.next((m) => m === 'sync');
    b.node.exit(pb.pid, 'boom');
    const e = await pa.next(isExit);
    expect(e.from.equals(pb.pid)).toBe(true);
    expect(e.reason).toBe('boom');
  });

  it('exit(pid, reason) to a remote process kills it unless it traps', async () => {
    const [a, b] = await pair();
    const pb = await probe(b.node);
    const pa = await probe(a.node);
    const ref = pa.ctx.monitor(remote(pb.pid));
    pa.ctx.exit(remote(pb.pid), 'die');
    const d = await pa.next(isDown);
    expect(d.ref.equals(ref)).toBe(true);
    expect(d.reason).toBe('die');
    expect(b.node.isAlive(pb.pid)).toBe(false);
  });

  it('monitor across nodes: DOWN with the reason; demonitor stops it', async () => {
    const [a, b] = await pair();
    const pa = await probe(a.node);
    const pb1 = await probe(b.node);
    const pb2 = await probe(b.node);
    const r1 = pa.ctx.monitor(remote(pb1.pid));
    const r2 = pa.ctx.monitor(remote(pb2.pid));
    pa.ctx.demonitor(r2);
    a.node.send(remote(pb1.pid), 'sync');
    await pb1.next();
    b.node.exit(pb2.pid, 'kill');
    b.node.exit(pb1.pid, 'bye');
    const d = await pa.next(isDown);
    expect(d.ref.equals(r1)).toBe(true);
    expect(d.reason).toBe('bye');
    expect((d.object as Pid).equals(pb1.pid)).toBe(true);
    expect(a.node.mailboxOf(pa.pid).filter(isDown)).toHaveLength(0);
  });

  it('monitor of a remote pid that never existed: DOWN noproc', async () => {
    const [a, b] = await pair();
    const pa = await probe(a.node);
    pa.ctx.monitor(new Pid('b@local', 999_999, b.node.creation));
    expect((await pa.next(isDown)).reason).toBe('noproc');
  });

  it('GenServer.call to a remote pid: the reply, the caller pid the server sees, and NoProcError for a dead server', async () => {
    const [a, b] = await pair();
    const server = b.node.spawn({
      handle: (m: unknown) => {
        if (isCall(m)) GenServer.reply(b.node, m.from, { req: m.req, caller: m.from.pid });
      },
    });
    const pa = await probe(a.node);
    const r = await GenServer.call<{ req: unknown; caller: Pid }>(pa.ctx, remote(server), 'ping', 2000);
    expect(r.req).toBe('ping');
    expect(r.caller.equals(pa.pid)).toBe(true);
    b.node.exit(server, 'kill');
    await until(() => !b.node.isAlive(server), 2000, 'server dead');
    await expect(GenServer.call(pa.ctx, remote(server), 'ping', 2000)).rejects.toMatchObject({ name: 'NoProcError' });
  });

  it('a monitor by remote name resolves on the remote node', async () => {
    const [a, b] = await pair();
    const pa = await probe(a.node);
    const pb = await probe(b.node);
    b.node.register('srv', pb.pid);
    pa.ctx.monitor({ name: 'srv', node: 'b@local' });
    a.node.send({ name: 'srv', node: 'b@local' }, 'sync');
    await pb.next();
    b.node.exit(pb.pid, 'gone');
    const d = await pa.next(isDown);
    expect(d.object).toEqual({ name: 'srv', node: 'b@local' });
    expect(d.reason).toBe('gone');
  });

  it('10,000 messages between two processes arrive in order', async () => {
    const [a, b] = await pair();
    const n = 10_000;
    let got = 0;
    let inOrder = true;
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    const sink = b.node.spawn({
      handle(m: unknown) {
        if (m !== got) inOrder = false;
        if (++got === n) done();
      },
    });
    const target = remote(sink);
    const src = await probe(a.node);
    for (let i = 0; i < n; i++) src.ctx.send(target, i);
    await finished;
    expect(inOrder).toBe(true);
  });

  it('messages and signals share one FIFO: messages sent before an exit arrive before it', async () => {
    const [a, b] = await pair();
    const pb = await probe(b.node, { trapExit: true });
    const pa = await probe(a.node);
    for (let i = 0; i < 100; i++) pa.ctx.send(remote(pb.pid), i);
    pa.ctx.exit(remote(pb.pid), 'after');
    for (let i = 0; i < 100; i++) expect(await pb.next()).toBe(i);
    expect((await pb.next<ExitMessage>()).reason).toBe('after');
  });

  it('node down: links get noconnection, monitors DOWN noconnection, watchers nodedown — after the last message', async () => {
    const [a, b] = await pair();
    const linked = await probe(a.node, { trapExit: true });
    const watcher = await probe(a.node);
    const pb = await probe(b.node);
    const pb2 = await probe(b.node);
    a.node.dist.monitorNodes(watcher.pid, true);
    linked.ctx.link(remote(pb.pid));
    const ref = watcher.ctx.monitor(remote(pb2.pid));
    // b's process sends a message and then b goes away: the message comes before nodedown.
    b.node.send(remote(watcher.pid), 'last words');
    a.node.send(remote(pb.pid), 'sync');
    await pb.next();
    const down = nextEvent(a.t, 'nodedown');
    await b.t.close();
    expect(await down).toEqual({ node: 'b@local', reason: 'connection_closed' });
    const e = await linked.next(isExit);
    expect(e.reason).toBe('noconnection');
    expect(await watcher.next()).toBe('last words');
    const d = await watcher.next(isDown);
    expect(d.ref.equals(ref)).toBe(true);
    expect(d.reason).toBe('noconnection');
    const nd = await watcher.next<NodeDownMessage>((m) => (m as NodeDownMessage).type === 'nodedown');
    expect(nd).toEqual({ type: 'nodedown', node: 'b@local', reason: 'connection_closed' });
  });

  it('1,000 remote monitors all fire DOWN noconnection on one nodedown', async () => {
    const [a, b] = await pair();
    const pa = await probe(a.node);
    const targets = Array.from({ length: 1000 }, () => b.node.spawn(async (ctx) => void (await ctx.receive())));
    const refs = new Set(targets.map((t) => pa.ctx.monitor(remote(t)).key));
    const down = nextEvent(a.t, 'nodedown');
    await b.t.close();
    await down;
    for (let i = 0; i < 1000; i++) {
      const d = await pa.next(isDown);
      expect(d.reason).toBe('noconnection');
      expect(refs.delete(d.ref.key)).toBe(true);
    }
    expect(refs.size).toBe(0);
  });
});
