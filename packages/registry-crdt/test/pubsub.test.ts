import { afterEach, describe, expect, it } from 'vitest';
import type { Node } from '@troupe/actor-core';
import type { Signal } from '@troupe/actor-core/wire';
import { PubSub } from '../src/index.js';
import { cluster, probe, shutdownAll, until, type Probe } from './helpers.js';

const fast = { discoveryMs: 50, antiEntropyMs: 300 };
let nodes: Node[] = [];
afterEach(() => shutdownAll(nodes));

function isForward(s: Signal): boolean {
  const m = s.k === 'send' || s.k === 'send_name' ? s.msg : undefined;
  return typeof m === 'object' && m !== null && '$ps' in m;
}

const FENCE = 'fence';

/**
 * Sends, from `from`, a forward of topic FENCE to the PubSub server on
 * every node of `ps`, its own included. Each server fans it out after
 * every forward it got earlier (one mailbox, in order; one link per node
 * pair, in order), so a subscriber to FENCE that has received the fence
 * from its node's server has also received every copy of an earlier
 * broadcast, duplicates included: no time window needed.
 */
function sendFence(from: Node, ps: PubSub[]): void {
  for (const p of ps) from.send({ name: `troupe.pubsub:${p.key}`, node: p.node.name }, { $ps: p.key, topic: FENCE, msg: FENCE });
}

/** Everything `s` receives up to the fence (which is not included). */
async function upToFence(s: Probe): Promise<unknown[]> {
  const got: unknown[] = [];
  for (let m = await s.next(); m !== FENCE; m = await s.next()) got.push(m);
  return got;
}

describe('PubSub (Phoenix.PubSub semantics on process groups)', () => {
  it('broadcast reaches subscribers on every node with one network message per remote node', async () => {
    const c = cluster(['a', 'b', 'c']);
    nodes = c.nodes;
    const ps = await Promise.all(c.nodes.map((n) => PubSub.start(n, { name: 'events', ...fast })));
    await until(() => ps.every((p) => p.members().length === 3), 2000, 'pubsub members');
    const subs = await Promise.all(c.nodes.flatMap((n) => [probe(n), probe(n)]));
    subs.forEach((s, i) => ps[Math.floor(i / 2)]!.subscribe(s.pid, 'room:1'));
    const other = await probe(c.nodes[1]!);
    ps[1]!.subscribe(other.pid, 'room:2');
    let forwards = 0;
    c.net.tap = (_f, _t, s) => {
      if (isForward(s)) forwards++;
    };
    ps[0]!.broadcast('room:1', { hello: 'all' });
    for (const s of subs) expect(await s.next()).toEqual({ hello: 'all' });
    expect(forwards).toBe(2);
    expect(await other.next(undefined, 50).catch(() => 'nothing')).toBe('nothing');
  });

  it('a broadcast reaches each subscriber exactly once, on the broadcasting node and on the others', async () => {
    const c = cluster(['a', 'b', 'c']);
    nodes = c.nodes;
    const ps = await Promise.all(c.nodes.map((n) => PubSub.start(n, { name: 'events', ...fast })));
    await until(() => ps.every((p) => p.members().length === 3), 2000, 'pubsub members');
    const subs = await Promise.all(c.nodes.map((n) => probe(n)));
    subs.forEach((s, i) => {
      ps[i]!.subscribe(s.pid, 'room');
      ps[i]!.subscribe(s.pid, FENCE);
    });
    ps[0]!.broadcast('room', 'one');
    ps[1]!.broadcast('room', 'two');
    sendFence(c.nodes[0]!, ps);
    sendFence(c.nodes[1]!, ps);
    for (const [i, s] of subs.entries()) {
      // Two fences each (one sent from a, one from b): after the second, every copy of both broadcasts is in.
      const got = [...(await upToFence(s)), ...(await upToFence(s))];
      expect(got.sort()).toEqual(['one', 'two']);
      expect(c.nodes[i]!.mailboxOf(s.pid)).toEqual([]);
    }
  });

  it('localBroadcast stays on the node; unsubscribe and subscriber death stop delivery', async () => {
    const c = cluster(['a', 'b']);
    nodes = c.nodes;
    const [pa, pb] = await Promise.all(c.nodes.map((n) => PubSub.start(n, { name: 'events', ...fast })));
    const la = await probe(c.nodes[0]!);
    const lb = await probe(c.nodes[1]!);
    pa!.subscribe(la.pid, 't');
    pb!.subscribe(lb.pid, 't');
    expect(pa!.localBroadcast('t', 'local')).toBe(1);
    expect(await la.next()).toBe('local');
    expect(await lb.next(undefined, 50).catch(() => 'nothing')).toBe('nothing');
    expect(pa!.unsubscribe(la.pid, 't')).toBe(true);
    expect(pa!.unsubscribe(la.pid, 't')).toBe(false);
    expect(pa!.localBroadcast('t', 'x')).toBe(0);
    lb.stop();
    await until(() => pb!.subscribers('t').length === 0, 2000, 'dead subscriber removed');
  });

  it('partitions: a broadcast never leaves its partition', async () => {
    const c = cluster(['ord1', 'ord2', 'cdg1']);
    nodes = c.nodes;
    const ps = await Promise.all(c.nodes.map((n) => PubSub.start(n, { name: 'events', partition: n.name.slice(0, 3), ...fast })));
    await until(() => ps[0]!.members().length === 2);
    const subs = await Promise.all(c.nodes.map((n) => probe(n)));
    subs.forEach((s, i) => ps[i]!.subscribe(s.pid, 't'));
    let cross = 0;
    c.net.tap = (f, t, s) => {
      if (isForward(s) && f.slice(0, 3) !== t.slice(0, 3)) cross++;
    };
    ps[0]!.broadcast('t', 'ord only');
    expect(await subs[1]!.next()).toBe('ord only');
    expect(await subs[2]!.next(undefined, 50).catch(() => 'nothing')).toBe('nothing');
    expect(cross).toBe(0);
  });
});
