/**
 * Life cycle in one process (MemoryNetwork): a graceful leave hands agents
 * over with their queues; a lost node's agents restart empty on a survivor;
 * the gateway's own start and close.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryNetwork, Node, silentLogger } from '@troupe/actor-core';
import { homeOf } from '@troupe/registry-crdt';
import { ErrorCode, startAgentServices, startGateway, type AgentServices, type Gateway } from '../src/index.js';
import { call, openEvents, rpc, until } from './helpers.js';

// A fresh three-node cluster per test: a test that stops services or loses a node leaves nothing behind for the next.
let net: MemoryNetwork;
let x: Node;
let y: Node;
let z: Node;
let sx: AgentServices;
let sy: AgentServices;
let sz: AgentServices;
let gx: Gateway;

function nameOn(node: Node, nodes: Node[], prefix: string): string {
  for (let i = 0; ; i++) if (homeOf(`${prefix}-${i}`, nodes.map((n) => n.name)) === node.name) return `${prefix}-${i}`;
}

beforeEach(async () => {
  net = new MemoryNetwork();
  [x, y, z] = ['x@local', 'y@local', 'z@local'].map((name) => new Node({ name, logger: silentLogger })) as [Node, Node, Node];
  net.mesh(x, y, z);
  [sx, sy, sz] = await Promise.all([x, y, z].map((n) => startAgentServices(n, { logEvents: 'silent', orphanGraceMs: 200 })));
  await until('three placement targets', () => [sx, sy, sz].every((s) => s.supervisor.targets().length === 3));
  gx = await startGateway({ services: sx });
});

afterEach(async () => {
  await gx?.close();
  for (const n of [x, y, z]) n.shutdown();
});

describe('agent life cycle', () => {
  it('a graceful leave (stop with drain) hands the agent over with its queue and counters', async () => {
    const name = nameOn(y, [x, y, z], 'mover');
    expect(await call(gx.url, 'StartAgent', { name })).toMatchObject({ node: 'y@local' });
    await call(gx.url, 'SendMessage', { agent: name, action: 'echo', params: { text: 'one' } });
    await call(gx.url, 'SendMessage', { agent: name, action: 'echo', params: { text: 'two' } });
    await call(gx.url, 'ProcessNext', { agent: name });
    const ev = await openEvents(gx.url, '?types=agent_started,agent_stopped');
    try {
      await sy.stop(); // drain
      const stopped = await ev.waitFor((e) => e.event === 'agent_stopped' && e.data.agent === name);
      expect(stopped.data).toMatchObject({ node: 'y@local', data: { reason: JSON.stringify({ shutdown: 'handoff' }) } });
      const started = await ev.waitFor((e) => e.event === 'agent_started' && e.data.agent === name && e.data.node !== 'y@local');
      expect(started.data.data).toMatchObject({ generation: 1, from: 'y@local', handedOver: true });
    } finally {
      ev.close();
    }
    const st = await until('the agent answers on its new node', async () => (await rpc<{ node: string; processed: number; queue: { params: unknown }[] }>(gx.url, 'GetAgentState', { agent: name })).body?.result);
    expect(st.node).toBe(homeOf(name, [x.name, z.name])); // where placement puts it once y is gone
    expect(st.processed).toBe(1);
    expect(st.queue.map((t) => t.params)).toEqual([{ text: 'two' }]);
    expect((await call<{ task: { id: string } }>(gx.url, 'ProcessNext', { agent: name })).task.id).toBe(`${name}#2`);
    // y's services are gone: it is no longer a member.
    await until('y left the supervisor', () => !sx.supervisor.targets().includes('y@local'));
  });

  it('a lost node: its agents restart empty on the survivor and answer by name', async () => {
    const name = nameOn(z, [x, y, z], 'crash');
    expect(await call(gx.url, 'StartAgent', { name })).toMatchObject({ node: 'z@local' });
    await call(gx.url, 'SendMessage', { agent: name, action: 'sum', params: { numbers: [1] } });
    await net.remove(z); // an abrupt loss (as a crash): nodedown on x
    const st = await until('the agent answers on x', async () => (await rpc<{ node: string; generation: number; queue: unknown[] }>(gx.url, 'GetAgentState', { agent: name })).body?.result);
    expect(st).toMatchObject({ node: 'x@local', generation: 1, queue: [] });
    expect(await call(gx.url, 'GetClusterInfo', {})).toMatchObject({ self: 'x@local', connected: ['y@local'], totalNodes: 2 });
  });

  it('node unavailable (-32003): the node hosting the agent goes down during a call', async () => {
    const w = new Node({ name: 'w@local', logger: silentLogger });
    net.connect(w, x);
    await startAgentServices(w, { logEvents: 'silent' });
    await until('w is a placement target on x', () => sx.supervisor.targets().includes('w@local'));
    const name = nameOn(w, sx.supervisor.targets().map((n) => ({ name: n }) as Node), 'doomed');
    expect(await call(gx.url, 'StartAgent', { name })).toMatchObject({ node: 'w@local' });
    await call(gx.url, 'SendMessage', { agent: name, action: 'delay', params: { ms: 5000 } });
    const base = x.stats().pendingCalls;
    const inFlight = rpc(gx.url, 'ProcessNext', { agent: name });
    await until('the call is in flight', () => x.stats().pendingCalls > base);
    await net.remove(w);
    const r = await inFlight;
    expect(r.body!.error).toMatchObject({ code: ErrorCode.NodeUnavailable, data: { agent: name } });
    w.shutdown();
  });

  it('node unavailable (-32003): a gateway whose services stopped', async () => {
    await sy.stop();
    const gy = await startGateway({ services: sy });
    try {
      const h = await fetch(`${gy.url}/health`);
      expect(h.status).toBe(503);
      expect(await h.json()).toMatchObject({ status: 'stopping', node: 'y@local' });
      const r = await rpc(gy.url, 'StartAgent', { name: 'late' });
      expect(r.body!.error).toMatchObject({ code: ErrorCode.NodeUnavailable });
      expect(r.body!.error!.message).toContain('stopped');
    } finally {
      await gy.close();
    }
  });
});

describe('gateway start and close', () => {
  it('a taken port is a clear error', async () => {
    const port = Number(new URL(gx.url).port);
    await expect(startGateway({ services: sx, port })).rejects.toThrow(`port ${port} on 127.0.0.1 is in use`);
  });

  it('services started twice on one node: the second start rejects, the first keeps serving', async () => {
    await expect(startAgentServices(x, { logEvents: 'silent' })).rejects.toThrow("cannot start the 'agents' services on x@local");
    await expect(startAgentServices(x, { maxQueue: 0 })).rejects.toThrow('maxQueue');
    expect(sx.running).toBe(true);
    expect(await call(gx.url, 'StartAgent', { name: 'after-twice' })).toMatchObject({ status: 'started' });
  });

  it('bad options are refused', async () => {
    await expect(startGateway({ services: sx, bodyLimit: 0 })).rejects.toThrow('bodyLimit');
    await expect(startGateway({ services: sx, node: y })).rejects.toThrow('node');
  });

  it('close() ends event streams and frees the port', async () => {
    const g = await startGateway({ services: sx });
    const ev = await openEvents(g.url);
    const ended = ev.waitFor(() => false, { timeoutMs: 5000 }).catch((e: Error) => e.message);
    await g.close();
    expect(await ended).toContain('ended');
    const port = Number(new URL(g.url).port);
    const again = await startGateway({ services: sx, port });
    await again.close();
  });
});
