import { afterEach, describe, expect, it } from 'vitest';
import { GenServer, Pid, isCall, type From, type Node } from '@troupe/actor-core';
import { SignalCodec, type Signal } from '@troupe/actor-core/wire';
import { withType } from '../src/frame-encoder.js';
import { FrameType } from '../src/index.js';
import { COOKIE, Cluster, probe, until, type TestNode } from './helpers.js';
import { RawPeer, dataFrame, remotePid } from './raw-peer.js';

const c = new Cluster();
const raws: RawPeer[] = [];
afterEach(async () => {
  for (const r of raws.splice(0)) r.close();
  await c.closeAll();
});
const data = dataFrame;
const remote = remotePid;

/** A server that holds every call until it gets 'release', then answers each with 'real'. */
function holdingServer(node: Node): { pid: Pid; held: From[] } {
  const held: From[] = [];
  const pid = node.spawn({
    handle: (m: unknown) => {
      if (isCall(m)) held.push(m.from);
      else if (m === 'release') for (const f of held.splice(0)) GenServer.reply(node, f, 'real');
    },
  });
  return { pid, held };
}

/** A peer with the cookie that is not part of the call: it replies to `tags`, then sends a marker to `marker` so the test knows the node read the forgeries. */
async function forge(target: TestNode, tags: number[], marker: Pid): Promise<void> {
  const r = await RawPeer.connect(target.t.url);
  raws.push(r);
  await r.handshake('evil@local', COOKIE);
  const forged: Signal[] = tags.map((tag) => ({ k: 'reply', tag, value: 'forged' }));
  r.send(data([...forged, { k: 'send', to: marker, msg: 'read' }]));
}

describe('call replies: only the node the call was sent to settles it', () => {
  it('a local-to-local call cannot be settled by any peer, whatever tag it guesses', async () => {
    const a = await c.start('a@local');
    const server = holdingServer(a.node);
    const caller = await probe(a.node);
    const marker = await probe(a.node);
    const result = GenServer.call(caller.ctx, server.pid, 'q', 5000);
    await until(() => server.held.length === 1);
    const realTag = server.held[0]!.tag;
    const guesses = [realTag, ...Array.from({ length: 5000 }, (_, i) => i + 1)];
    await forge(a, guesses, remote(marker.pid));
    expect(await marker.next()).toBe('read');
    a.node.send(server.pid, 'release');
    expect(await result).toBe('real');
  });

  it('a remote call is settled by its server node only, not by a third peer that knows the tag', async () => {
    const a = await c.start('a@local');
    const b = await c.start('b@local');
    await a.t.connect(b.t.url);
    const server = holdingServer(b.node);
    const caller = await probe(a.node);
    const marker = await probe(a.node);
    const result = GenServer.call(caller.ctx, remote(server.pid), 'q', 5000);
    await until(() => server.held.length === 1);
    const realTag = server.held[0]!.tag;
    await forge(a, [realTag, ...Array.from({ length: 5000 }, (_, i) => i + 1)], remote(marker.pid));
    expect(await marker.next()).toBe('read');
    b.node.send(server.pid, 'release');
    expect(await result).toBe('real');
  });

  it('call tags are not a sequence: two calls in a row get tags far apart and above every process id', async () => {
    const a = await c.start('a@local');
    const server = holdingServer(a.node);
    const caller = await probe(a.node);
    void GenServer.call(caller.ctx, server.pid, 1, 5000).catch(() => undefined);
    void GenServer.call(caller.ctx, server.pid, 2, 5000).catch(() => undefined);
    await until(() => server.held.length === 2);
    const [t1, t2] = server.held.map((f) => f.tag) as [number, number];
    expect(Math.abs(t2 - t1)).toBeGreaterThan(1000);
    expect(Math.min(t1, t2)).toBeGreaterThan(2 ** 40);
    expect(Number.isSafeInteger(t1) && Number.isSafeInteger(t2)).toBe(true);
  });
});
