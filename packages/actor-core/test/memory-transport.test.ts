import { describe, expect, it } from 'vitest';
import { MemoryNetwork, Pid, type NodeDownMessage, type NodeUpMessage } from '../src/index.js';
import { probe, testNode, until } from './helpers.js';
import { cluster } from './distribution-helpers.js';

const isNodeUp = (m: unknown): m is NodeUpMessage => (m as { type?: unknown } | null)?.type === 'nodeup';
const isNodeDown = (m: unknown): m is NodeDownMessage => (m as { type?: unknown } | null)?.type === 'nodedown';
const isNum = (m: unknown): m is number => typeof m === 'number';

describe('memory transport', () => {
  it('connect: nodeup on both sides with each other’s creation', async () => {
    const net = new MemoryNetwork();
    const a = testNode('a@mem');
    const b = testNode('b@mem');
    net.add(a);
    net.add(b);
    const pa = await probe(a);
    const pb = await probe(b);
    a.dist.monitorNodes(pa.pid, true);
    b.dist.monitorNodes(pb.pid, true);
    net.connect(a, b);
    expect(a.dist.creationOf('b@mem')).toBe(b.creation);
    expect(b.dist.creationOf('a@mem')).toBe(a.creation);
    expect(a.dist.nodes()).toEqual(['b@mem']);
    expect(await pa.next(isNodeUp)).toEqual({ type: 'nodeup', node: 'b@mem' });
    expect(await pb.next(isNodeUp)).toEqual({ type: 'nodeup', node: 'a@mem' });
    net.connect(a, b); // idempotent
    expect(await pa.none(isNodeUp, 20)).toBe(true);
    expect(() => net.connect(a, a)).toThrow(/itself/);
    expect(() => net.add(testNode('a@mem'))).toThrow(/already/);
  });

  it('per-pair FIFO, delivered asynchronously (never on the sender’s stack)', async () => {
    const { net, nodes } = cluster(['a', 'b']);
    const [a, b] = nodes as [typeof nodes[0], typeof nodes[0]];
    const pb = await probe(b);
    const N = 10_000;
    for (let i = 0; i < N; i++) a.send(pb.pid, i);
    expect(b.mailboxOf(pb.pid)).toHaveLength(0); // nothing delivered synchronously
    expect(net.stats(a, b).queued).toBe(N);
    for (let i = 0; i < N; i++) expect(await pb.next(isNum)).toBe(i);
    expect(net.stats(a, b)).toMatchObject({ sent: N, delivered: N, queued: 0 });
    expect(net.stats(a, b).bytes).toBeGreaterThan(N * 10);
  });

  it('pause holds one direction; resume delivers in order; stats count frames', async () => {
    const { net, nodes } = cluster(['a', 'b']);
    const [a, b] = nodes as [typeof nodes[0], typeof nodes[0]];
    const pa = await probe(a);
    const pb = await probe(b);
    net.pause(a, b);
    a.send(pb.pid, 1);
    a.send(pb.pid, 2);
    b.send(pa.pid, 'back'); // the other direction still flows
    expect(await pa.next()).toBe('back');
    expect(await pb.none(undefined, 30)).toBe(true);
    expect(net.stats(a, b)).toMatchObject({ sent: 2, delivered: 0, queued: 2, paused: true });
    net.resume(a, b);
    expect(await pb.next()).toBe(1);
    expect(await pb.next()).toBe(2);
    await net.settled();
    expect(net.stats('a@mem', 'b@mem')).toMatchObject({ delivered: 2, queued: 0, paused: false });
  });

  it('signal_SUITE:monitor_nodes_order — nodedown after the in-flight signals, nothing after it', async () => {
    const { net, nodes } = cluster(['a', 'b']);
    const [a, b] = nodes as [typeof nodes[0], typeof nodes[0]];
    const pb = await probe(b);
    b.dist.monitorNodes(pb.pid, true);
    net.pause(a, b); // make sure signals really are in flight at disconnect
    for (let i = 0; i < 100; i++) a.send(pb.pid, i);
    const done = net.disconnect(a, b, 'disconnect');
    a.send(pb.pid, 'after'); // refused: the connection is closing
    expect(a.dist.isConnected('b@mem')).toBe(true); // until a's own nodedown
    await done;
    const seen: unknown[] = [];
    for (;;) {
      const m = await pb.next();
      seen.push(m);
      if (isNodeDown(m)) break;
    }
    expect(seen.slice(0, 100)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(seen[100]).toEqual({ type: 'nodedown', node: 'a@mem', reason: 'disconnect' });
    expect(await pb.none(undefined, 30)).toBe(true);
    expect(a.dist.isConnected('b@mem')).toBe(false);
    expect(b.dist.nodes()).toEqual([]);
  });

  it('disconnect with drop loses the in-flight signals (an abrupt cut) but still reports nodedown', async () => {
    const { net, nodes } = cluster(['a', 'b']);
    const [a, b] = nodes as [typeof nodes[0], typeof nodes[0]];
    const pb = await probe(b);
    b.dist.monitorNodes(pb.pid, true);
    net.pause(a, b);
    a.send(pb.pid, 'lost');
    await net.disconnect(a, b, 'cut', { drop: true });
    expect(await pb.next()).toEqual({ type: 'nodedown', node: 'a@mem', reason: 'cut' });
    expect(await pb.none(undefined, 20)).toBe(true);
  });

  it('the receiver gets a copy: mutating a message after send changes nothing', async () => {
    const { nodes } = cluster(['a', 'b']);
    const [a, b] = nodes as [typeof nodes[0], typeof nodes[0]];
    const pb = await probe(b);
    const msg = { n: 1, list: [1] };
    a.send(pb.pid, msg);
    msg.n = 2;
    msg.list.push(2);
    expect(await pb.next()).toEqual({ n: 1, list: [1] });
  });

  it('unencodable message: the sender gets a CodecError (like DataCloneError)', async () => {
    const { nodes } = cluster(['a', 'b']);
    const [a, b] = nodes as [typeof nodes[0], typeof nodes[0]];
    const pb = await probe(b);
    expect(() => a.send(pb.pid, { s: Symbol('no') })).toThrow(/cannot encode send signal/);
    a.send({ name: 'nobody', node: 'b@mem' }, 'fine');
  });

  it('codec off: signals are copied with fresh pids (no process cache crosses nodes)', async () => {
    const { nodes } = cluster(['a', 'b'], { codec: false });
    const [a, b] = nodes as [typeof nodes[0], typeof nodes[0]];
    const pa = await probe(a);
    const pb = await probe(b);
    const fn = (): number => 1;
    const m = new Map([['k', pa.pid]]);
    a.send(pb.pid, { from: pa.pid, fn, m });
    const got = await pb.next<{ from: Pid; fn: () => number; m: Map<string, Pid> }>();
    expect(got.from).not.toBe(pa.pid);
    expect(got.from.p).toBeNull();
    expect(got.from.equals(pa.pid)).toBe(true);
    expect(got.fn).toBe(fn);
    expect(got.m.get('k')!.equals(pa.pid)).toBe(true);
    b.send(got.from, 'reply');
    expect(await pa.next()).toBe('reply');
  });

  it('node shutdown: peers see nodedown connection_closed; a restarted node is a new incarnation', async () => {
    const { net, nodes } = cluster(['a', 'b']);
    const [a, b] = nodes as [typeof nodes[0], typeof nodes[0]];
    const pa = await probe(a);
    a.dist.monitorNodes(pa.pid, true);
    const oldB = b.creation;
    b.shutdown();
    expect(await pa.next(isNodeDown)).toEqual({ type: 'nodedown', node: 'b@mem', reason: 'connection_closed' });
    const b2 = testNode('b@mem');
    net.connect(a, b2);
    expect(await pa.next(isNodeUp)).toEqual({ type: 'nodeup', node: 'b@mem' });
    expect(a.dist.creationOf('b@mem')).toBe(b2.creation);
    expect(b2.creation).not.toBe(oldB);
  });

  it('signals from a node that is not connected are dropped (fail closed)', async () => {
    const a = testNode('a@mem');
    const pa = await probe(a);
    const port = a.dist.attach({ sendSignal: () => false });
    port.handle('stranger@mem', { k: 'send', to: pa.pid, msg: 'hi' });
    port.handle('stranger@mem', { k: 'exit', from: new Pid('stranger@mem', 1, 1), to: pa.pid, reason: 'kill', link: false });
    expect(await pa.none(undefined, 20)).toBe(true);
    expect(a.isAlive(pa.pid)).toBe(true);
  });

  it('tap sees every delivered signal, decoded', async () => {
    const { net, nodes } = cluster(['a', 'b']);
    const [a, b] = nodes as [typeof nodes[0], typeof nodes[0]];
    const kinds: string[] = [];
    net.tap = (from, to, s) => kinds.push(`${from}>${to}:${s.k}`);
    const pb = await probe(b);
    const pa = await probe(a);
    pa.ctx.monitor(pb.pid);
    a.send(pb.pid, 'x');
    await until(() => kinds.length >= 2);
    expect(kinds).toEqual(['a@mem>b@mem:monitor', 'a@mem>b@mem:send']);
  });

  describe('virtual time', () => {
    /** `ms` of this process's CPU time, as a handler doing real work would take (clocks count CPU time). */
    const spin = (ms: number): void => {
      const cpu = (): number => {
        const c = process.cpuUsage();
        return (c.user + c.system) / 1000;
      };
      const end = cpu() + ms;
      while (cpu() < end);
    };

    it('a node’s clock advances by its own work only; what it sends is handled no earlier than sent plus latency', async () => {
      const net = new MemoryNetwork({ virtualTime: { latencyMs: 5 } });
      const a = testNode('a@vt');
      const b = testNode('b@vt');
      const c = testNode('c@vt');
      net.mesh(a, b, c);
      const clock = net.clock!;
      const pa = await probe(a);
      // b and c each work 100 ms on one message: in one thread that is 200 ms, in simulated time each took 100.
      // (Clocks count the process's CPU time: other threads of this process would only make them read later.)
      const worker = (n: typeof b) => n.spawn({ handle: (m, ctx) => (spin(100), ctx.node.send(m as Pid, `${n.name} done`)) });
      const wb = worker(b);
      const wc = worker(c);
      const t0 = clock.sync();
      clock.runAs('a@vt', () => {
        spin(30);
        a.send(wb, pa.pid);
        a.send(wc, pa.pid);
      });
      expect(await pa.next()).toMatch(/done/);
      expect(await pa.next()).toMatch(/done/);
      for (const n of ['b@vt', 'c@vt']) {
        // Handled after a's 30 ms and the 5 ms of latency, then 100 ms of its own.
        expect(clock.now(n) - t0).toBeGreaterThanOrEqual(135);
        expect(clock.now(n) - t0).toBeLessThan(200);
      }
      // a: its own 30 ms, then the two replies (stamped ~140 ms); not b's and c's work on top of each other.
      expect(clock.now('a@vt') - t0).toBeGreaterThanOrEqual(140);
      expect(clock.now('a@vt') - t0).toBeLessThan(200);
      expect(clock.max()).toBe(Math.max(clock.now('a@vt'), clock.now('b@vt'), clock.now('c@vt')));
    });

    it('nodedown is handled no earlier than the connection was cut', async () => {
      const net = new MemoryNetwork({ virtualTime: { latencyMs: 1 } });
      const a = testNode('a@vt');
      const b = testNode('b@vt');
      net.mesh(a, b);
      const clock = net.clock!;
      const pa = await probe(a);
      a.dist.monitorNodes(pa.pid, true);
      clock.runAs('b@vt', () => spin(50));
      const cut = clock.now('b@vt');
      void net.disconnect(a, b);
      expect(await pa.next(isNodeDown)).toMatchObject({ type: 'nodedown', node: 'b@vt' });
      expect(clock.now('a@vt')).toBeGreaterThanOrEqual(cut + 1);
    });
  });
});
