import { describe, expect, it } from 'vitest';
import {
  CallExitError,
  CallTimeoutError,
  NoProcError,
  NodeDownError,
  Pid,
  isDownMessage,
  isExitMessage,
  isCall,
  type From,
  MemoryNetwork,
  type DownMessage,
  type ExitMessage,
  type Node,
  type NodeDownMessage,
  type NodeUpMessage,
} from '../src/index.js';
import { probe, testNode, until } from './helpers.js';
import { callServer, cluster, forwarder } from './distribution-helpers.js';

const isNodeUp = (m: unknown): m is NodeUpMessage => (m as { type?: unknown } | null)?.type === 'nodeup';
const isNodeDown = (m: unknown): m is NodeDownMessage => (m as { type?: unknown } | null)?.type === 'nodedown';
const two = (): { net: ReturnType<typeof cluster>['net']; a: Node; b: Node } => {
  const { net, nodes } = cluster(['a', 'b']);
  return { net, a: nodes[0]!, b: nodes[1]! };
};
/** A process on `node` that just waits (until killed). */
const idle = (node: Node, opts?: { name?: string; trapExit?: boolean }): Pid =>
  node.spawn(async (ctx) => {
    await ctx.receive((m) => m === 'never');
  }, opts);

describe('distribution: messages', () => {
  it('remote send by pid and by { name, node }; unknown remote names are silent', async () => {
    const { a, b } = two();
    const pa = await probe(a);
    b.spawn(forwarder(pa.pid), { name: 'fwd' });
    a.send({ name: 'fwd', node: 'b@mem' }, 'by-name');
    const m = await pa.next<{ fwd: unknown; by: Pid }>();
    expect(m.fwd).toBe('by-name');
    a.send(m.by, 'by-pid');
    expect(await pa.next()).toMatchObject({ fwd: 'by-pid' });
    expect(() => a.send({ name: 'nobody', node: 'b@mem' }, 1)).not.toThrow();
    expect(() => a.send({ name: 'x', node: 'unknown@mem' }, 1)).not.toThrow();
  });

  it('signal_SUITE:xm_sig_order — remote: nothing sent after exit(P, R) is processed; DOWN carries R', async () => {
    const { a, b } = two();
    const pa = await probe(a);
    const p = b.spawn(forwarder(pa.pid));
    const mref = pa.ctx.monitor(p);
    const sender = a.spawn(async (ctx) => {
      for (let i = 1; i <= 3; i++) ctx.send(p, i);
      ctx.exit(p, { shutdown: 'xm' });
      for (let i = 4; i <= 6; i++) ctx.send(p, i);
    });
    const down = await pa.next<DownMessage>(isDownMessage);
    expect(down).toEqual({ type: 'DOWN', ref: mref, object: p, reason: { shutdown: 'xm' } });
    // Whatever P forwarded was sent before its DOWN on the same b→a FIFO: already in the mailbox.
    const processed = a.mailboxOf(pa.pid).map((m) => (m as { fwd: number }).fwd);
    expect(processed).toEqual([1, 2, 3].slice(0, processed.length));
    await a.call(b.spawn(callServer), 'sync'); // one more round trip: nothing else arrives
    expect(a.mailboxOf(pa.pid)).toHaveLength(processed.length);
    expect(a.isAlive(sender)).toBe(false);
  });

  it('signal_SUITE:monitor_order — remote: DOWN never overtakes earlier messages from the dying process', async () => {
    const { a, b } = two();
    const pa = await probe(a);
    const [, mref] = await (async () => {
      let ready!: () => void;
      const go = new Promise<void>((r) => (ready = r));
      const pid = b.spawn(async (ctx) => {
        await go;
        for (let i = 0; i < 500; i++) ctx.send(pa.pid, i);
        throw new Error('done');
      });
      const ref = pa.ctx.monitor(pid);
      await until(() => b.processInfo(pid)?.monitoredBy.length === 1);
      ready();
      return [pid, ref] as const;
    })();
    for (let i = 0; i < 500; i++) expect(await pa.next()).toBe(i);
    expect(await pa.next()).toMatchObject({ type: 'DOWN', ref: mref, reason: { error: { message: 'done' } } });
  });

  it('signal_SUITE:kill2killed — remote: exit/2 kill gives killed; exit/1 kill propagates as kill over links', async () => {
    const { a, b } = two();
    const pa = await probe(a, { trapExit: true });
    // exit/2 kill across nodes: untrappable, seen as killed
    const t1 = idle(b, { trapExit: true });
    pa.ctx.link(t1);
    await until(() => b.processInfo(t1)?.links.length === 1);
    a.exit(t1, 'kill');
    expect(await pa.next<ExitMessage>(isExitMessage)).toEqual({ type: 'EXIT', from: t1, reason: 'killed' });
    // exit/1 kill: a chain a-probe <-> b1 <-> a2 where b1 dies with kill; a2 (not trapping) dies with kill
    const a2 = idle(a);
    const b1 = b.spawn(async (ctx) => {
      ctx.link(a2);
      await ctx.receive((m) => m === 'die');
      ctx.exit('kill');
    });
    const ma2 = pa.ctx.monitor(a2);
    await until(() => a.processInfo(a2)?.links.length === 1);
    a.send(b1, 'die');
    expect(await pa.next<DownMessage>((m) => isDownMessage(m) && m.ref.equals(ma2))).toMatchObject({ reason: 'kill' });
  });
});

describe('distribution: links', () => {
  it('remote link: a crash propagates both ways; unlink stops it', async () => {
    const { a, b } = two();
    const pa = await probe(a, { trapExit: true });
    const t = b.spawn(async (ctx) => {
      const m = await ctx.receive();
      throw new Error(String(m));
    });
    pa.ctx.link(t);
    await until(() => b.processInfo(t)?.links.some((p) => p.equals(pa.pid)) === true);
    a.send(t, 'crash');
    expect(await pa.next(isExitMessage)).toMatchObject({ type: 'EXIT', from: t, reason: { error: { message: 'crash' } } });
    expect(a.processInfo(pa.pid)!.links).toEqual([]);
    // the other way: the local side dies, the remote non-trapping side dies with the same reason
    const pb = await probe(b);
    const victim = idle(b);
    const mref = pb.ctx.monitor(victim);
    const dier = a.spawn(async (ctx) => {
      ctx.link(victim);
      await ctx.receive((m) => m === 'go');
      ctx.exit({ custom: 1 });
    });
    await until(() => b.processInfo(victim)?.links.length === 1);
    a.send(dier, 'go');
    expect(await pb.next(isDownMessage)).toEqual({ type: 'DOWN', ref: mref, object: victim, reason: { custom: 1 } });
    // unlink: no exit signal afterwards
    const t2 = idle(b);
    pa.ctx.link(t2);
    await until(() => b.processInfo(t2)?.links.length === 1);
    pa.ctx.unlink(t2);
    await until(() => b.processInfo(t2)?.links.length === 0);
    b.exit(t2, 'bye');
    expect(await pa.none(isExitMessage, 30)).toBe(true);
  });

  it('link to a dead remote pid gives noproc (and removes the half-link); to an unreachable node noconnection at once', async () => {
    const { a, b } = two();
    const pa = await probe(a, { trapExit: true });
    const dead = b.spawn(async () => {});
    await until(() => !b.isAlive(dead));
    pa.ctx.link(dead);
    expect(await pa.next(isExitMessage)).toEqual({ type: 'EXIT', from: dead, reason: 'noproc' });
    expect(a.processInfo(pa.pid)!.links).toEqual([]);
    const far = new Pid('far@mem', 1, 1);
    pa.ctx.link(far);
    expect(a.mailboxOf(pa.pid)).toEqual([{ type: 'EXIT', from: far, reason: 'noconnection' }]);
    // without trap_exit, the noconnection exit kills the linker
    const linker = a.spawn(async (ctx) => {
      ctx.link(far);
      await ctx.receive();
    });
    const m = pa.ctx.monitor(linker);
    expect(await pa.next(isDownMessage)).toEqual({ type: 'DOWN', ref: m, object: linker, reason: 'noconnection' });
  });

  it('remote exit/2: normal is ignored by a non-trapping target, other reasons kill, trapping gets EXIT', async () => {
    const { a, b } = two();
    const pa = await probe(a);
    const t = idle(b);
    const m = pa.ctx.monitor(t);
    pa.ctx.exit(t, 'normal');
    expect(await pa.none(isDownMessage, 30)).toBe(true);
    pa.ctx.exit(t, 'go-away');
    expect(await pa.next(isDownMessage)).toEqual({ type: 'DOWN', ref: m, object: t, reason: 'go-away' });
    const pb = await probe(b, { trapExit: true });
    pa.ctx.exit(pb.pid, 'hello');
    expect(await pb.next(isExitMessage)).toEqual({ type: 'EXIT', from: pa.pid, reason: 'hello' });
  });
});

describe('distribution: monitors', () => {
  it('monitor_SUITE:mon_2 — remote DOWN normal, reason, noproc, noconnection on node stop, name monitor', async () => {
    const { net, a, b } = two();
    const pa = await probe(a);
    const t1 = b.spawn(async (ctx) => {
      await ctx.receive();
    });
    const r1 = pa.ctx.monitor(t1);
    a.send(t1, 'go');
    expect(await pa.next(isDownMessage)).toEqual({ type: 'DOWN', ref: r1, object: t1, reason: 'normal' });
    const t2 = idle(b);
    const r2 = pa.ctx.monitor(t2);
    await until(() => b.processInfo(t2)?.monitoredBy.length === 1);
    b.exit(t2, 'my-reason');
    expect(await pa.next(isDownMessage)).toEqual({ type: 'DOWN', ref: r2, object: t2, reason: 'my-reason' });
    const r3 = pa.ctx.monitor(t2); // dead by now
    expect(await pa.next(isDownMessage)).toEqual({ type: 'DOWN', ref: r3, object: t2, reason: 'noproc' });
    const t4 = idle(b, { name: 'named' });
    const r4 = pa.ctx.monitor(t4);
    const r5 = pa.ctx.monitor({ name: 'named', node: 'b@mem' });
    await until(() => b.processInfo(t4)?.monitoredBy.length === 2);
    await net.disconnect(a, b);
    const downs = [await pa.next<DownMessage>(isDownMessage), await pa.next<DownMessage>(isDownMessage)];
    expect(downs).toContainEqual({ type: 'DOWN', ref: r4, object: t4, reason: 'noconnection' });
    expect(downs).toContainEqual({ type: 'DOWN', ref: r5, object: { name: 'named', node: 'b@mem' }, reason: 'noconnection' });
    // name monitor on a node that is gone: noconnection at once
    const r6 = pa.ctx.monitor({ name: 'named', node: 'b@mem' });
    expect(a.mailboxOf(pa.pid)).toEqual([{ type: 'DOWN', ref: r6, object: { name: 'named', node: 'b@mem' }, reason: 'noconnection' }]);
    expect(a.processInfo(pa.pid)!.monitors).toEqual([]);
    expect(b.processInfo(t4)!.monitoredBy).toEqual([]); // b dropped a's monitors at nodedown
  });

  it('monitor_SUITE:mon_1 (remote names): object is { name, node }; an unknown remote name gives noproc', async () => {
    const { a, b } = two();
    const pa = await probe(a);
    const r0 = pa.ctx.monitor({ name: 'ghost', node: 'b@mem' });
    expect(await pa.next(isDownMessage)).toEqual({ type: 'DOWN', ref: r0, object: { name: 'ghost', node: 'b@mem' }, reason: 'noproc' });
    const t = idle(b, { name: 'srv' });
    const r = pa.ctx.monitor({ name: 'srv', node: 'b@mem' });
    await until(() => b.processInfo(t)?.monitoredBy.length === 1);
    b.exit(t, 'bye');
    expect(await pa.next(isDownMessage)).toEqual({ type: 'DOWN', ref: r, object: { name: 'srv', node: 'b@mem' }, reason: 'bye' });
  });

  it('monitor_SUITE:demon_3 — a delivered DOWN noconnection survives demonitor; demonitor before the cut means no DOWN', async () => {
    const { net, a, b } = two();
    const pa = await probe(a);
    const t1 = idle(b);
    const t2 = idle(b);
    const r1 = pa.ctx.monitor(t1);
    const r2 = pa.ctx.monitor(t2);
    await until(() => b.processInfo(t2)?.monitoredBy.length === 1);
    expect(pa.ctx.demonitor(r2)).toBe(true);
    await until(() => b.processInfo(t2)?.monitoredBy.length === 0); // the demonitor reached b
    await net.disconnect(a, b);
    await until(() => a.mailboxOf(pa.pid).length === 1);
    expect(pa.ctx.demonitor(r1)).toBe(true);
    expect(a.mailboxOf(pa.pid)).toEqual([{ type: 'DOWN', ref: r1, object: t1, reason: 'noconnection' }]);
    expect(await pa.next(isDownMessage)).toMatchObject({ ref: r1 });
    expect(await pa.none(isDownMessage, 20)).toBe(true);
  });

  it('monitor_SUITE:demonitor_flush / remote_remove_monitor — flush and info across nodes', async () => {
    const { a, b } = two();
    const pa = await probe(a);
    const t = idle(b);
    const r = pa.ctx.monitor(t);
    await until(() => b.processInfo(t)?.monitoredBy.length === 1);
    b.exit(t, 'x');
    await until(() => a.mailboxOf(pa.pid).length === 1);
    expect(pa.ctx.demonitor(r, { flush: true, info: true })).toBe(false); // had fired
    expect(a.mailboxOf(pa.pid)).toEqual([]);
    const t2 = idle(b);
    const r2 = pa.ctx.monitor(t2);
    expect(pa.ctx.demonitor(r2, { info: true })).toBe(true); // removed before it fired
    await until(() => b.processInfo(t2)?.monitoredBy.length === 0);
    b.exit(t2, 'x');
    expect(await pa.none(isDownMessage, 30)).toBe(true);
  });

  it('monitor_SUITE:otp_5827 — pids of an old incarnation: monitor gives noproc at once, sends are dropped', async () => {
    const { a, b } = two();
    const pa = await probe(a, { trapExit: true });
    const stale = new Pid('b@mem', 1, b.creation + 1);
    const r = pa.ctx.monitor(stale);
    expect(a.mailboxOf(pa.pid)).toEqual([{ type: 'DOWN', ref: r, object: stale, reason: 'noproc' }]);
    await pa.next();
    pa.ctx.link(stale);
    expect(await pa.next(isExitMessage)).toEqual({ type: 'EXIT', from: stale, reason: 'noproc' });
    const pb = await probe(b);
    const staleProbe = new Pid('b@mem', pb.pid.id, b.creation + 1);
    a.send(staleProbe, 'lost');
    a.send(pb.pid, 'kept');
    expect(await pb.next()).toBe('kept');
    expect(b.mailboxOf(pb.pid)).toEqual([]);
    await expect(a.call(staleProbe, 'x', 1000)).rejects.toBeInstanceOf(NoProcError);
  });

  it('monitor to an unreachable node gives DOWN noconnection at once', async () => {
    const a = testNode('lonely@mem');
    const pa = await probe(a);
    const far = new Pid('far@mem', 3, 3);
    const r = pa.ctx.monitor(far);
    expect(a.mailboxOf(pa.pid)).toEqual([{ type: 'DOWN', ref: r, object: far, reason: 'noconnection' }]);
  });

  it('bookkeeping (list_cleanup): monitors, links and remote indexes are cleaned on demonitor, death and nodedown', async () => {
    const { net, a, b } = two();
    const pa = await probe(a);
    const t = idle(b);
    const rs = [pa.ctx.monitor(t), pa.ctx.monitor(t), pa.ctx.monitor(t)];
    await until(() => b.processInfo(t)?.monitoredBy.length === 3);
    for (const r of rs) pa.ctx.demonitor(r);
    await until(() => b.processInfo(t)?.monitoredBy.length === 0);
    // the monitoring process dies: its remote monitors and links go away on the other node
    const watcher = a.spawn(async (ctx) => {
      ctx.monitor(t);
      ctx.link(t);
      await ctx.receive((m) => m === 'stop');
    });
    await until(() => b.processInfo(t)?.monitoredBy.length === 1 && b.processInfo(t)?.links.length === 1);
    a.send(watcher, 'stop');
    await until(() => b.processInfo(t)?.monitoredBy.length === 0 && b.processInfo(t)?.links.length === 0);
    expect(b.isAlive(t)).toBe(true); // a normal exit does not kill a non-trapping partner
    // nodedown: both sides drop everything tied to the other
    const pt = await probe(a, { trapExit: true });
    const rt = pt.ctx.monitor(t);
    const tb = idle(b, { trapExit: true });
    pt.ctx.link(tb);
    await until(() => b.processInfo(tb)?.links.length === 1 && b.processInfo(t)?.monitoredBy.length === 1);
    await net.disconnect(a, b);
    expect(b.processInfo(t)!.monitoredBy).toEqual([]);
    expect(b.mailboxOf(tb)).toEqual([{ type: 'EXIT', from: pt.pid, reason: 'noconnection' }]);
    expect(b.processInfo(tb)!.links).toEqual([]);
    expect(a.processInfo(pt.pid)).toMatchObject({ links: [], monitors: [] });
    // EXIT before DOWN on a lost connection, as OTP (links are taken down first).
    expect(a.mailboxOf(pt.pid)).toEqual([
      { type: 'EXIT', from: tb, reason: 'noconnection' },
      { type: 'DOWN', ref: rt, object: t, reason: 'noconnection' },
    ]);
  });
});

describe('distribution: node monitoring', () => {
  it('erl_distribution_SUITE:monitor_nodes_otp_6481 — nodeup before the first message, nodedown after the last', async () => {
    const net = new MemoryNetwork();
    const a = testNode('a@mem');
    const b = testNode('b@mem');
    const pa = await probe(a);
    a.dist.monitorNodes(pa.pid, true);
    // On b: as soon as b sees a, flood a's probe.
    const flooder = b.spawn(async (ctx) => {
      await ctx.receive(isNodeUp);
      for (let i = 0; i < 200; i++) ctx.send(pa.pid, i);
    });
    b.dist.monitorNodes(flooder, true);
    net.connect(a, b);
    const got: unknown[] = [];
    for (let i = 0; i < 201; i++) got.push(await pa.next());
    void net.disconnect(a, b, 'disconnect');
    got.push(await pa.next());
    expect(got[0]).toEqual({ type: 'nodeup', node: 'b@mem' });
    expect(got.slice(1, 201)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(got[201]).toEqual({ type: 'nodedown', node: 'b@mem', reason: 'disconnect' });
  });

  it('monitor_nodes_down_up / _cleanup: nodedown before the next nodeup; one message per subscription; dead subscribers removed', async () => {
    const { net, a, b } = two();
    const pa = await probe(a);
    a.dist.monitorNodes(pa.pid, true);
    a.dist.monitorNodes(pa.pid, true); // two subscriptions, two messages each
    const sub = idle(a);
    a.dist.monitorNodes(sub, true);
    const ms = pa.ctx.monitor(sub);
    a.exit(sub, 'kill');
    await pa.next((m) => isDownMessage(m) && m.ref.equals(ms));
    await net.disconnect(a, b, 'disconnect');
    net.connect(a, b);
    const seen = [await pa.next(), await pa.next(), await pa.next(), await pa.next()];
    expect(seen).toEqual([
      { type: 'nodedown', node: 'b@mem', reason: 'disconnect' },
      { type: 'nodedown', node: 'b@mem', reason: 'disconnect' },
      { type: 'nodeup', node: 'b@mem' },
      { type: 'nodeup', node: 'b@mem' },
    ]);
    a.dist.monitorNodes(pa.pid, false);
    await net.disconnect(a, b);
    expect(await pa.none(isNodeDown, 20)).toBe(true);
    expect(() => a.dist.monitorNodes(new Pid('b@mem', 1, 1), true)).toThrow(/not a local process/);
  });

  it('a reconnect under a new creation is nodedown then nodeup; old pids are then noproc', async () => {
    const { net, a, b } = two();
    const pa = await probe(a);
    a.dist.monitorNodes(pa.pid, true);
    const t = idle(b);
    const r = pa.ctx.monitor(t);
    await until(() => b.processInfo(t)?.monitoredBy.length === 1);
    a.dist.attach(net.add(a)).nodeUp('b@mem', b.creation + 7); // the transport saw a new incarnation first
    expect(await pa.next()).toEqual({ type: 'DOWN', ref: r, object: t, reason: 'noconnection' });
    expect(await pa.next()).toEqual({ type: 'nodedown', node: 'b@mem', reason: 'connection_closed' });
    expect(await pa.next()).toEqual({ type: 'nodeup', node: 'b@mem' });
    const r2 = pa.ctx.monitor(t);
    expect(await pa.next()).toEqual({ type: 'DOWN', ref: r2, object: t, reason: 'noproc' });
  });
});

describe('distribution: calls', () => {
  it('remote call with node.call and ctx.call; the server answers with node.reply(env.from, v)', async () => {
    const { a, b } = two();
    const srv = b.spawn(callServer, { name: 'srv' });
    expect(await a.call(srv, 'hi')).toEqual({ echo: 'hi', by: srv });
    const pa = await probe(a);
    const nested = { p: pa.pid, list: [pa.pid] };
    const r = await pa.ctx.call<{ echo: typeof nested }>(srv, nested);
    expect(r.echo.p.equals(pa.pid)).toBe(true);
    expect(a.stats().pendingCalls).toBe(0);
    await until(() => b.processInfo(srv)?.monitoredBy.length === 0); // the call's monitor was removed
  });

  it('a remote call is one call signal carrying its monitor: a reply from the server node ends it, a timeout demonitors', async () => {
    const { net, a, b } = two();
    const srv = b.spawn(callServer);
    const kinds: string[] = [];
    net.tap = (_from, _to, s) => kinds.push(s.k);
    expect(await a.call(srv, 'hi')).toMatchObject({ echo: 'hi' });
    await net.settled();
    expect(kinds).toEqual(['call', 'reply']);
    expect(b.lookup(srv)!.remoteCallers).toBe(0);
    kinds.length = 0;
    await expect(a.call(srv, 'ignore', 20)).rejects.toBeInstanceOf(CallTimeoutError);
    await net.settled();
    expect(kinds).toEqual(['call', 'demonitor']);
    expect(b.lookup(srv)!.remoteCallers).toBe(0);
  });

  it('a reply to a remote call from a third node is ignored (only the server node settles it); the server node\'s reply does', async () => {
    const { net, nodes } = cluster(['a', 'b', 'c']);
    const [a, b, c] = nodes as [Node, Node, Node];
    const helper = c.spawn({ handle: (m, ctx) => ctx.node.reply((m as { from: From }).from, 'from c') });
    const srv = b.spawn({
      handle: (m, ctx) => {
        if (isCall(m)) ctx.send(helper, { from: m.from, then: ctx.self });
        else if (m === 'answer') ctx.node.reply(held!, 'from b');
        if (isCall(m)) held = m.from;
      },
    });
    let held: From | null = null;
    const result = a.call(srv, 'x');
    await until(() => held !== null);
    await net.settled();
    expect(a.stats().pendingCalls).toBe(1);
    b.send(srv, 'answer');
    expect(await result).toBe('from b');
    await net.settled();
    expect(b.lookup(srv)!.remoteCallers).toBe(0);
  });

  it('remote call: the server dies → CallExitError with its reason; a dead server → NoProcError', async () => {
    const { a, b } = two();
    const srv = b.spawn(callServer);
    const e = await a.call(srv, 'crash').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CallExitError);
    expect((e as CallExitError).reason).toMatchObject({ error: { message: 'boom' } });
    await expect(a.call(srv, 'again')).rejects.toBeInstanceOf(NoProcError);
    const srv2 = b.spawn(callServer);
    await expect(a.call(srv2, { stop: 'shutdown' })).rejects.toMatchObject({ reason: 'shutdown' });
  });

  it('remote call: node goes down → NodeDownError; unconnected node → NodeDownError at once', async () => {
    const { net, a, b } = two();
    const srv = b.spawn(callServer);
    const pending = a.call(srv, 'ignore', 10_000).catch((x: unknown) => x);
    await until(() => b.processInfo(srv)?.handled === 1);
    void net.disconnect(a, b);
    const e = await pending;
    expect(e).toBeInstanceOf(NodeDownError);
    expect((e as NodeDownError).node).toBe('b@mem');
    await expect(a.call(srv, 'x')).rejects.toBeInstanceOf(NodeDownError);
    await expect(a.call(new Pid('far@mem', 1, 1), 'x')).rejects.toBeInstanceOf(NodeDownError);
  });

  it('remote call timeout → CallTimeoutError; the late reply is dropped', async () => {
    const { net, a, b } = two();
    const srv = b.spawn(callServer);
    net.pause(b, a);
    await expect(a.call(srv, 'slow', 30)).rejects.toBeInstanceOf(CallTimeoutError);
    net.resume(b, a);
    await net.settled();
    expect(a.stats().pendingCalls).toBe(0);
    expect(await a.call(srv, 'fast')).toMatchObject({ echo: 'fast' });
  });
  it('gen_server_SUITE:call_remote_n* — call by { name, node }: resolved on the remote node; unknown name → NoProcError; node down → NodeDownError', async () => {
    const { net, a, b } = two();
    const srv = b.spawn(callServer, { name: 'named_srv' });
    expect(await a.call({ name: 'named_srv', node: 'b@mem' }, 'hi')).toEqual({ echo: 'hi', by: srv });
    await expect(a.call({ name: 'nobody', node: 'b@mem' }, 'hi')).rejects.toBeInstanceOf(NoProcError);
    const e = await a.call({ name: 'named_srv', node: 'b@mem' }, 'crash').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CallExitError);
    expect(a.stats().pendingCalls).toBe(0);
    b.spawn(callServer, { name: 'named_srv' });
    const pending = a.call({ name: 'named_srv', node: 'b@mem' }, 'ignore', 10_000).catch((x: unknown) => x);
    await until(() => b.processInfo(b.whereis('named_srv')!)?.handled === 1);
    void net.disconnect(a, b);
    expect(await pending).toBeInstanceOf(NodeDownError);
    await expect(a.call({ name: 'named_srv', node: 'b@mem' }, 'x')).rejects.toBeInstanceOf(NodeDownError);
  });
});
