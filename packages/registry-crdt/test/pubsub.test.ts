import { afterEach, describe, expect, it } from 'vitest';
import type { Node } from '@troupe/actor-core';
import type { Signal } from '@troupe/actor-core/wire';
import { PubSub } from '../src/index.js';
import { cluster, probe, shutdownAll, until } from './helpers.js';

const fast = { discoveryMs: 50, antiEntropyMs: 300 };
let nodes: Node[] = [];
afterEach(() => shutdownAll(nodes));

function isForward(s: Signal): boolean {
  const m = s.k === 'send' || s.k === 'send_name' ? s.msg : undefined;
  return typeof m === 'object' && m !== null && '$ps' in m;
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
