import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidUrlError, PROTOCOL_MAX_VERSION, WsTransport } from '../src/index.js';
import { Node, silentLogger } from '@troupe/actor-core';
import { COOKIE, Cluster, nextEvent, until } from './helpers.js';

const c = new Cluster();
afterEach(() => c.closeAll());

const sorted = (xs: string[]): string[] => [...xs].sort();

describe('nodes and the mesh', () => {
  it('two nodes connect: both see nodeup and list each other', async () => {
    const a = await c.start('a@local');
    const b = await c.start('b@local');
    expect(a.t.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const upOnB = nextEvent(b.t, 'nodeup', (e) => e.node === 'a@local');
    expect(await a.t.connect(b.t.url)).toBe('b@local');
    expect((await upOnB).creation).toBe(a.node.creation);
    expect(a.t.nodes()).toEqual(['b@local']);
    expect(b.t.nodes()).toEqual(['a@local']);
    expect(a.node.dist.creationOf('b@local')).toBe(b.node.creation);
    expect(a.t.peer('b@local')).toMatchObject({ initiated: true, url: b.t.url, version: PROTOCOL_MAX_VERSION });
    expect(b.t.peer('a@local')).toMatchObject({ initiated: false, url: a.t.url });
    // At debug, as Erlang is silent on nodeup: the application logs its own line for the event.
    expect(a.log.lines.filter((l) => l.msg === 'transport-ws: node up').map((l) => [l.level, l.data?.['peer']])).toEqual([['debug', 'b@local']]);
  });

  it('three nodes: connecting to one member connects to all (transitive full mesh)', async () => {
    const a = await c.start('a@local');
    const b = await c.start('b@local');
    const cc = await c.start('c@local');
    await b.t.connect(cc.t.url);
    await a.t.connect(b.t.url);
    await until(() => a.t.nodes().length === 2 && cc.t.nodes().length === 2, 3000, 'full mesh');
    expect(sorted(a.t.nodes())).toEqual(['b@local', 'c@local']);
    expect(sorted(b.t.nodes())).toEqual(['a@local', 'c@local']);
    expect(sorted(cc.t.nodes())).toEqual(['a@local', 'b@local']);
    // One connection per pair: a-c was dialled by the smaller name only.
    expect(a.t.peer('c@local')?.initiated).toBe(true);
    expect(cc.t.peer('a@local')?.initiated).toBe(false);
  });

  it('a fourth node joining through any member meets everyone', async () => {
    const ns = await Promise.all(['a@l', 'b@l', 'c@l', 'd@l'].map((n) => c.start(n)));
    await ns[0]!.t.connect(ns[1]!.t.url);
    await ns[2]!.t.connect(ns[1]!.t.url);
    await ns[3]!.t.connect(ns[2]!.t.url);
    await until(() => ns.every((n) => n.t.nodes().length === 3), 3000, '4-node mesh');
    for (const n of ns) expect(n.t.nodes('connected')).toHaveLength(3);
  });

  it('seven nodes joining one seed at once, names in no order: a full mesh, each connection the seed did not accept dialled by the smaller name', async () => {
    const names = ['d@l', 'g@l', 'a@l', 'f@l', 'b@l', 'e@l', 'c@l'];
    const ns = await Promise.all(names.map((n) => c.start(n)));
    const seed = ns[0]!;
    await Promise.all(ns.slice(1).map((n) => n.t.connect(seed.t.url)));
    await until(() => ns.every((n) => n.t.nodes().length === names.length - 1), 5000, '7-node mesh');
    for (const n of ns) {
      expect(sorted(n.t.nodes())).toEqual(sorted(names.filter((x) => x !== n.node.name)));
      // Every connection the seed did not accept was dialled by the smaller name.
      for (const p of n.t.nodes()) if (n !== seed && p !== seed.node.name) expect(n.t.peer(p)?.initiated).toBe(n.node.name < p);
    }
  });

  it('newcomers announced to a peer within the window reach it as one members frame', async () => {
    const a = await c.start('a@l');
    const z = await c.start('z@l');
    await a.t.connect(z.t.url);
    const got = vi.spyOn(z.t, 'onMembers');
    const conn = a.t.peers.get('z@l')!;
    const sent = vi.spyOn(conn, 'sendMembers');
    // Names smaller than z's: z learns of them and dials none (only the smaller name dials).
    for (const n of ['m1@l', 'm2@l', 'm1@l', 'm3@l']) conn.announceMember({ name: n, url: `ws://127.0.0.1:1/${n}` });
    expect(sent).not.toHaveBeenCalled();
    await until(() => got.mock.calls.length > 0, 3000, 'the members frame');
    expect(sent).toHaveBeenCalledTimes(1);
    expect(got).toHaveBeenCalledTimes(1);
    expect(got.mock.calls[0]![1].map((m) => m.name)).toEqual(['m1@l', 'm2@l', 'm3@l']);
  });

  it('a newcomer is not announced to a peer that said it is connected to it, until that peer is seen down', async () => {
    const [a, m, z] = await Promise.all(['a@l', 'm@l', 'z@l'].map((n) => c.start(n)));
    await m.t.connect(z.t.url);
    // z's member list tells a that z is connected to m (and a, the smaller name, dials m).
    await a.t.connect(z.t.url);
    await until(() => a.t.nodes().length === 2, 3000, 'a meets m');
    const got = vi.spyOn(z.t, 'onMembers');
    const conn = a.t.peers.get('z@l')!;
    conn.announceMember({ name: 'm@l', url: m.t.url });
    conn.announceMember({ name: 'k@l', url: 'ws://127.0.0.1:1/k' });
    await until(() => got.mock.calls.length > 0, 3000, 'the members frame');
    expect(got.mock.calls[0]![1].map((x) => x.name)).toEqual(['k@l']);
    // Once a has seen m go down, what z said about m no longer holds.
    await m.t.close();
    await until(() => a.t.nodes().length === 1, 3000, 'm down on a');
    conn.announceMember({ name: 'm@l', url: m.t.url });
    await until(() => got.mock.calls.length > 1, 3000, 'the second members frame');
    expect(got.mock.calls[1]![1].map((x) => x.name)).toEqual(['m@l']);
  });

  it('a hidden node connects only where asked and is not listed or propagated', async () => {
    const a = await c.start('a@local');
    const b = await c.start('b@local');
    const h = await c.start('h@local', { hidden: true });
    await a.t.connect(b.t.url);
    await h.t.connect(a.t.url);
    expect(h.t.nodes()).toEqual([]);
    expect(h.t.nodes('hidden')).toEqual(['a@local']);
    expect(a.t.nodes()).toEqual(['b@local']);
    expect(a.t.nodes('hidden')).toEqual(['h@local']);
    expect(sorted(a.t.nodes('connected'))).toEqual(['b@local', 'h@local']);
    // A visible newcomer is not told about the hidden node either.
    const d = await c.start('d@local');
    await d.t.connect(a.t.url);
    await until(() => d.t.nodes().length === 2, 3000, 'd in the mesh');
    expect(sorted(d.t.nodes())).toEqual(['a@local', 'b@local']);
    expect(h.t.nodes('connected')).toEqual(['a@local']);
    expect(b.t.isConnected('h@local')).toBe(false);
  });

  it('simultaneous connect: one connection per pair, the one initiated by the smaller name', async () => {
    for (let round = 0; round < 5; round++) {
      const a = await c.start(`a${round}@local`);
      const b = await c.start(`b${round}@local`);
      let downs = 0;
      a.t.on('nodedown', () => downs++);
      b.t.on('nodedown', () => downs++);
      const [x, y] = await Promise.all([a.t.connect(b.t.url), b.t.connect(a.t.url)]);
      expect(x).toBe(`b${round}@local`);
      expect(y).toBe(`a${round}@local`);
      expect(a.t.peer(y.replace('a', 'b'))?.initiated).toBe(true);
      expect(b.t.peer(x.replace('b', 'a'))?.initiated).toBe(false);
      expect(a.t.nodes('connected')).toHaveLength(1);
      expect(b.t.nodes('connected')).toHaveLength(1);
      expect(downs).toBe(0);
      await c.closeAll();
    }
  });

  it('connecting twice, or to an already connected node, keeps the one connection', async () => {
    const a = await c.start('a@local');
    const b = await c.start('b@local');
    const [x, y] = await Promise.all([a.t.connect(b.t.url), a.t.connect(b.t.url)]);
    expect([x, y]).toEqual(['b@local', 'b@local']);
    expect(await a.t.connect(b.t.url)).toBe('b@local');
    expect(await b.t.connect(a.t.url)).toBe('a@local');
    expect(a.t.peer('b@local')?.initiated).toBe(true);
    expect(b.t.nodes('connected')).toEqual(['a@local']);
  });

  it('connecting to itself resolves to its own name and opens nothing', async () => {
    const a = await c.start('a@local');
    expect(await a.t.connect(a.t.url)).toBe('a@local');
    expect(await a.t.connect(a.t.url.replace('127.0.0.1', 'localhost'))).toBe('a@local');
    expect(a.t.nodes('connected')).toEqual([]);
  });

  it('node names are validated; a bad URL is refused', async () => {
    // One rule (actor-core's): a node cannot even be made with such a name, so no transport sees one.
    expect(() => new Node({ name: 'no-host', logger: silentLogger })).toThrow(/invalid node name/);
    expect(() => new Node({ name: 'a/b@h', logger: silentLogger })).toThrow(/invalid node name/);
    const a = await c.start('a@local');
    await expect(a.t.connect('http://127.0.0.1:1')).rejects.toBeInstanceOf(InvalidUrlError);
    await expect(a.t.connect('not a url')).rejects.toBeInstanceOf(InvalidUrlError);
  });

  it('a refused port rejects connect with a ConnectError', async () => {
    const a = await c.start('a@local');
    const b = await c.start('b@local');
    const url = b.t.url;
    await c.closeAll();
    const a2 = await c.start('a2@local');
    void a;
    await expect(a2.t.connect(url)).rejects.toMatchObject({ code: 'TROUPE_ERR_CONNECT' });
  });

  it('a send to a node that is not connected fails closed: nothing is dialled', async () => {
    const a = await c.start('a@local');
    const b = await c.start('b@local');
    expect(() => a.node.send({ name: 'x', node: 'b@local' }, 'hi')).not.toThrow();
    expect(a.t.sendSignal('b@local', { k: 'send_name', name: 'x', msg: 1 })).toBe(false);
    expect(a.t.nodes('connected')).toEqual([]);
    expect(b.t.nodes('connected')).toEqual([]);
  });

  it('disconnect gives nodedown with reason disconnect here and connection_closed there', async () => {
    const a = await c.start('a@local');
    const b = await c.start('b@local');
    await a.t.connect(b.t.url);
    const downB = nextEvent(b.t, 'nodedown');
    const downA = nextEvent(a.t, 'nodedown');
    expect(a.t.disconnect('b@local')).toBe(true);
    expect(await downA).toEqual({ node: 'b@local', reason: 'disconnect' });
    expect(await downB).toEqual({ node: 'a@local', reason: 'connection_closed' });
    expect(a.t.disconnect('b@local')).toBe(false);
    // and it can reconnect
    await b.t.connect(a.t.url);
    expect(a.t.nodes()).toEqual(['b@local']);
  });

  it('close: peers see connection_closed at once', async () => {
    const a = await c.start('a@local');
    const b = await c.start('b@local');
    await a.t.connect(b.t.url);
    const downA = nextEvent(a.t, 'nodedown');
    await b.t.close();
    expect(await downA).toEqual({ node: 'b@local', reason: 'connection_closed' });
    expect(a.t.nodes()).toEqual([]);
  });
});

describe('attaching', () => {
  it('a node takes one transport; a second start fails and releases its port', async () => {
    const a = await c.start('a@local');
    await expect(WsTransport.start(a.node, { cookie: COOKIE })).rejects.toThrow(/already has a transport/);
    const b = await c.start('b@local');
    expect(await b.t.connect(a.t.url)).toBe('a@local');
  });
});
