import { afterEach, describe, expect, it } from 'vitest';
import { Rpc, type NodeUpMessage } from '@troupe/actor-core';
import { Cluster, nextEvent, probe } from './helpers.js';

const c = new Cluster();
afterEach(() => c.closeAll());

describe('hidden nodes in the node listing (net_kernel hidden connections)', () => {
  it('node.dist.nodes() lists visible peers; nodes("hidden") and nodes("connected") the others', async () => {
    const a = await c.start('a@local');
    const b = await c.start('b@local');
    const h = await c.start('h@local', { hidden: true });
    const pa = await probe(a.node);
    a.node.dist.monitorNodes(pa.pid, true);
    await a.t.connect(b.t.url);
    await h.t.connect(a.t.url);
    expect(a.node.dist.nodes()).toEqual(['b@local']);
    expect(a.node.dist.nodes('visible')).toEqual(['b@local']);
    expect(a.node.dist.nodes('hidden')).toEqual(['h@local']);
    expect(a.node.dist.nodes('connected').sort()).toEqual(['b@local', 'h@local']);
    // On the hidden node every connection is hidden.
    expect(h.node.dist.nodes()).toEqual([]);
    expect(h.node.dist.nodes('hidden')).toEqual(['a@local']);
    // The transport's listing agrees.
    expect(a.t.nodes()).toEqual(a.node.dist.nodes());
    expect(a.t.nodes('hidden')).toEqual(a.node.dist.nodes('hidden'));
    // monitor_nodes subscribers hear about visible nodes only (OTP's default).
    expect(await pa.next<NodeUpMessage>()).toEqual({ type: 'nodeup', node: 'b@local' });
    // A hidden node is still connected: it can call what a node exposes.
    Rpc.expose(a.node, 'ping', () => 'pong');
    expect(await Rpc.call(h.node, 'a@local', 'ping')).toBe('pong');
    const hDown = nextEvent(a.t, 'nodedown', (e) => e.node === 'h@local');
    h.t.disconnect('a@local');
    await hDown;
    await b.t.close();
    const down = await pa.next<{ type: string; node: string }>();
    expect(down).toMatchObject({ type: 'nodedown', node: 'b@local' });
    expect(a.node.dist.nodes('connected')).toEqual([]);
    expect(a.node.mailboxOf(pa.pid)).toEqual([]);
  });
});
