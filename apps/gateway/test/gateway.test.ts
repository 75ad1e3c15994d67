/**
 * The method/error matrix over real HTTP on 127.0.0.1, with three nodes in
 * this process over MemoryNetwork (a and b run the agent services and a
 * gateway each; c is a plain node used to show node_up / node_down).
 */
import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryNetwork, Node, silentLogger } from '@troupe/actor-core';
import { homeOf } from '@troupe/registry-crdt';
import { ErrorCode, MAX_DELAY_MS, startAgentServices, startGateway, type AgentServices, type Gateway } from '../src/index.js';
import { call, openEvents, rpc, rpcRaw, until, type EventStream } from './helpers.js';

// A fresh cluster per test (three nodes, services and gateways start in a
// few ms): no test sees agents, events or links another test left behind.
let net: MemoryNetwork;
let a: Node;
let b: Node;
let c: Node;
let sa: AgentServices;
let sb: AgentServices;
let ga: Gateway;
let gb: Gateway;
let quick: Gateway; // a second gateway on a with short limits

/** The first name with this prefix that rendezvous hashing places on `node` (with a and b alive). */
function nameOn(node: Node, prefix: string): string {
  for (let i = 0; ; i++) if (homeOf(`${prefix}-${i}`, [a.name, b.name]) === node.name) return `${prefix}-${i}`;
}

beforeEach(async () => {
  net = new MemoryNetwork();
  a = new Node({ name: 'a@local', logger: silentLogger });
  b = new Node({ name: 'b@local', logger: silentLogger });
  c = new Node({ name: 'c@local', logger: silentLogger });
  net.mesh(a, b);
  [sa, sb] = await Promise.all([startAgentServices(a, { maxQueue: 3, logEvents: 'silent' }), startAgentServices(b, { maxQueue: 3, logEvents: 'silent' })]);
  await until('both nodes are placement targets', () => sa.supervisor.targets().length === 2 && sb.supervisor.targets().length === 2);
  [ga, gb, quick] = await Promise.all([
    startGateway({ node: a, services: sa }),
    startGateway({ services: sb }),
    startGateway({ services: sa, bodyLimit: 200, requestTimeoutMs: 300 }),
  ]);
});

afterEach(async () => {
  await Promise.all([ga?.close(), gb?.close(), quick?.close()]);
  for (const n of [a, b, c]) n.shutdown();
});

describe('HTTP endpoints', () => {
  it('GET /health: status, node and the nodes it sees', async () => {
    const r = await fetch(`${ga.url}/health`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ok', reasons: [], node: 'a@local', nodes: ['a@local', 'b@local'] });
  });

  it('GET /health reports the cluster health it is given: degraded with reasons (200), unreachable (503)', async () => {
    let h: { status: 'healthy' | 'degraded' | 'unreachable'; reasons: string[] } = { status: 'degraded', reasons: ['ws://10.0.0.5:5000: refused (bad_cookie)'] };
    const g = await startGateway({ services: sa, health: () => h });
    try {
      const r1 = await fetch(`${g.url}/health`);
      expect(r1.status).toBe(200);
      expect(await r1.json()).toMatchObject({ status: 'degraded', reasons: ['ws://10.0.0.5:5000: refused (bad_cookie)'] });
      h = { status: 'unreachable', reasons: ['ws://10.0.0.5:5000: refused (bad_cookie)'] };
      const r2 = await fetch(`${g.url}/health/`);
      expect(r2.status).toBe(503);
      expect(await r2.json()).toMatchObject({ status: 'unreachable' });
    } finally {
      await g.close();
    }
  });

  it('GET /.well-known/agent.json: the agent card lists every method with its params', async () => {
    const card = (await (await fetch(`${gb.url}/.well-known/agent.json`)).json()) as {
      name: string;
      url: string;
      version: string;
      methods: { name: string; params: { name: string; required: boolean }[] }[];
      actions: { name: string }[];
    };
    expect(card.url).toBe(`${gb.url}/a2a`);
    expect(card.version).toBe('0.1.0');
    expect(card.name).toContain('b@local');
    expect(card.methods.map((m) => m.name)).toEqual(['StartAgent', 'SendMessage', 'ProcessNext', 'GetAgentState', 'ListAgents', 'GetClusterInfo', 'StopAgent']);
    expect(card.methods.find((m) => m.name === 'SendMessage')!.params.map((p) => [p.name, p.required])).toEqual([
      ['agent', true],
      ['action', true],
      ['params', false],
      ['messageId', false],
    ]);
    expect(card.actions.map((x) => x.name)).toEqual(['echo', 'upper', 'reverse', 'sum', 'delay', '*']);
  });

  it('unknown paths are 404, wrong methods 405 with Allow', async () => {
    expect((await fetch(`${ga.url}/nope`)).status).toBe(404);
    const r = await fetch(`${ga.url}/a2a`);
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('POST');
    expect((await fetch(`${ga.url}/health`, { method: 'POST', body: '{}' })).status).toBe(405);
    expect((await fetch(`${ga.url}/events`, { method: 'HEAD' })).status).toBe(200); // headers only, no stream
  });
});

describe('JSON-RPC methods across two nodes', () => {
  it('StartAgent places agents on both nodes; ListAgents on either node lists them all with their node', async () => {
    const onA = nameOn(a, 'alpha');
    const onB = nameOn(b, 'beta');
    // Both started through a's gateway: placement, not the gateway, picks the node.
    expect(await call(ga.url, 'StartAgent', { name: onA })).toEqual({ name: onA, node: 'a@local', status: 'started' });
    expect(await call(ga.url, 'StartAgent', { name: onB })).toEqual({ name: onB, node: 'b@local', status: 'started' });
    for (const url of [ga.url, gb.url]) {
      const list = await until('both agents listed', async () => {
        const r = await call<{ agents: { name: string; node: string }[] }>(url, 'ListAgents', {});
        return r.agents.length === 2 ? r.agents : undefined;
      });
      expect(list.map((x) => [x.name, x.node])).toEqual([
        [onA, 'a@local'],
        [onB, 'b@local'],
      ]);
    }
    // A taken name is an application error, from either gateway.
    const again = await rpc(ga.url, 'StartAgent', { name: onB });
    expect(again.body!.error).toMatchObject({ code: ErrorCode.AgentExists, data: { agent: onB, node: 'b@local' } });
    await until('the name is visible on b', () => sb.registry.whereisName(onA) !== undefined);
    expect((await rpc(gb.url, 'StartAgent', { name: onA })).body!.error!.code).toBe(ErrorCode.AgentExists);
  });

  it('SendMessage / ProcessNext / GetAgentState drive an agent on the other node', async () => {
    const name = nameOn(b, 'worker');
    await call(ga.url, 'StartAgent', { name });
    expect(await call(ga.url, 'SendMessage', { agent: name, action: 'upper', params: { text: 'hi there' } })).toMatchObject({ status: 'queued', queueLength: 1 });
    expect(await call(ga.url, 'SendMessage', { agent: name, action: 'sum', params: { numbers: [1, 2, 3.5] } })).toMatchObject({ status: 'queued', queueLength: 2 });
    const st = await call<{ name: string; node: string; queue: { action: string }[]; processed: number; startedAt: string }>(ga.url, 'GetAgentState', { agent: name });
    expect(st).toMatchObject({ name, node: 'b@local', processed: 0 });
    expect(st.queue.map((t) => t.action)).toEqual(['upper', 'sum']);
    expect(Number.isNaN(Date.parse(st.startedAt))).toBe(false);

    await until('b sees the agent', () => sb.registry.whereisName(name));
    expect(await call(gb.url, 'ProcessNext', { agent: name })).toMatchObject({ status: 'processed', task: { id: `${name}#1`, action: 'upper', via: 'a@local' }, result: 'HI THERE' });
    expect(await call(ga.url, 'ProcessNext', { agent: name })).toMatchObject({ status: 'processed', task: { action: 'sum' }, result: 6.5 });
    expect(await call(ga.url, 'ProcessNext', { agent: name })).toEqual({ status: 'empty' });
    await call(ga.url, 'SendMessage', { agent: name, action: 'echo', params: { text: 'x' } });
    await call(ga.url, 'SendMessage', { agent: name, action: 'reverse', params: { text: 'abc' } });
    expect((await call<{ result: unknown }>(ga.url, 'ProcessNext', { agent: name })).result).toBe('x');
    expect((await call<{ result: unknown }>(ga.url, 'ProcessNext', { agent: name })).result).toBe('cba');
    expect(await call(gb.url, 'GetAgentState', { agent: name })).toMatchObject({ processed: 4, queue: [] });
  });

  it('SendMessage beyond maxQueue is -32005', async () => {
    const name = nameOn(a, 'full');
    await call(ga.url, 'StartAgent', { name });
    for (let i = 0; i < 3; i++) await call(ga.url, 'SendMessage', { agent: name, action: 'echo', params: { text: String(i) } });
    const r = await rpc(ga.url, 'SendMessage', { agent: name, action: 'echo', params: { text: 'more' } });
    expect(r.body!.error).toMatchObject({ code: ErrorCode.QueueFull, data: { limit: 3 } });
  });

  it('GetClusterInfo: self, connected, totalNodes and the members of each service', async () => {
    const info = await call<Record<string, unknown>>(gb.url, 'GetClusterInfo', {});
    expect(info).toMatchObject({ self: 'b@local', connected: ['a@local'], totalNodes: 2 });
    const members = info['members'] as Record<string, { node: string; status: string }[]>;
    for (const svc of ['registry', 'supervisor', 'pubsub']) {
      expect(members[svc]!.map((m) => [m.node, m.status])).toEqual([
        ['a@local', 'alive'],
        ['b@local', 'alive'],
      ]);
    }
  });

  it('StopAgent stops it wherever it runs; then it is not found', async () => {
    const name = nameOn(b, 'gone');
    await call(ga.url, 'StartAgent', { name });
    expect(await call(ga.url, 'StopAgent', { agent: name })).toEqual({ name, node: 'b@local', status: 'stopped' });
    await until('a sees it gone', async () => (await rpc(ga.url, 'GetAgentState', { agent: name })).body!.error?.code === ErrorCode.AgentNotFound);
    const r = await rpc(ga.url, 'StopAgent', { agent: name });
    expect(r.body!.error).toMatchObject({ code: ErrorCode.AgentNotFound, data: { agent: name } });
    expect(r.body!.error!.message).toContain(`agent '${name}' not found`);
    for (const m of ['SendMessage', 'ProcessNext', 'GetAgentState']) {
      const p = m === 'SendMessage' ? { agent: 'nobody', action: 'echo', params: { text: '' } } : { agent: 'nobody' };
      expect((await rpc(ga.url, m, p)).body!.error!.code).toBe(ErrorCode.AgentNotFound);
    }
    // The name is free again.
    expect(await call(gb.url, 'StartAgent', { name })).toMatchObject({ name, status: 'started' });
  });
});

describe('JSON-RPC errors', () => {
  const err = async (body: string): Promise<{ code: number; message: string; data?: Record<string, unknown>; id: unknown; status: number }> => {
    const r = await rpcRaw(ga.url, body);
    return { ...r.body!.error!, id: r.body!.id, status: r.status };
  };

  it('-32700 parse error (id null)', async () => {
    expect(await err('{"jsonrpc": "2.0", "method": ')).toMatchObject({ code: -32700, id: null, status: 200 });
    expect(await err('')).toMatchObject({ code: -32700, id: null });
  });

  it('-32600 invalid request: batches (also empty), non-objects, wrong jsonrpc, bad method, bad id, scalar params', async () => {
    const batch = await err(JSON.stringify([{ jsonrpc: '2.0', method: 'ListAgents', id: 1 }]));
    expect(batch).toMatchObject({ code: -32600, id: null });
    expect(batch.message).toContain('batch');
    expect(await err('[]')).toMatchObject({ code: -32600, id: null });
    expect(await err('42')).toMatchObject({ code: -32600, id: null });
    expect(await err('{"method":"ListAgents","id":7}')).toMatchObject({ code: -32600, id: 7 });
    expect(await err('{"jsonrpc":"1.0","method":"ListAgents","id":"x"}')).toMatchObject({ code: -32600, id: 'x' });
    expect(await err('{"jsonrpc":"2.0","method":5,"id":8}')).toMatchObject({ code: -32600, id: 8 });
    expect(await err('{"jsonrpc":"2.0","method":"ListAgents","id":{"a":1}}')).toMatchObject({ code: -32600, id: null });
    expect(await err('{"jsonrpc":"2.0","method":"ListAgents","params":"x","id":9}')).toMatchObject({ code: -32600, id: 9 });
  });

  it('-32601 method not found (own properties only)', async () => {
    expect(await err('{"jsonrpc":"2.0","method":"Launch","id":1}')).toMatchObject({ code: -32601, id: 1 });
    expect(await err('{"jsonrpc":"2.0","method":"toString","id":2}')).toMatchObject({ code: -32601, id: 2 });
  });

  it('-32602 invalid params, naming the param', async () => {
    const p = async (method: string, params: unknown): Promise<unknown> => {
      const r = await rpc(ga.url, method, params);
      expect(r.body!.error!.code).toBe(-32602);
      expect(r.body!.error!.message).toContain(`'${String(r.body!.error!.data!['param'])}'`);
      return r.body!.error!.data!['param'];
    };
    expect(await p('StartAgent', {})).toBe('name');
    expect(await p('StartAgent', { name: '' })).toBe('name');
    expect(await p('StartAgent', { name: 'has space' })).toBe('name');
    expect(await p('StartAgent', { name: 7 })).toBe('name');
    expect(await p('StartAgent', { name: 'ok', extra: 1 })).toBe('extra');
    expect(await p('StartAgent', ['positional'])).toBe('params');
    expect(await p('SendMessage', { agent: 'x', action: 'has space', params: {} })).toBe('action');
    expect(await p('SendMessage', { agent: 'x' })).toBe('action');
    expect(await p('SendMessage', { agent: 'x', action: 'echo' })).toBe('params.text');
    expect(await p('SendMessage', { agent: 'x', action: 'echo', params: { text: 1 } })).toBe('params.text');
    expect(await p('SendMessage', { agent: 'x', action: 'echo', params: { text: 'a', loud: true } })).toBe('params.loud');
    expect(await p('SendMessage', { agent: 'x', action: 'sum', params: { numbers: [1, 'two'] } })).toBe('params.numbers[1]');
    expect(await p('SendMessage', { agent: 'x', action: 'sum', params: 'nope' })).toBe('params');
    expect(await p('SendMessage', { agent: 'x', action: 'delay', params: { ms: MAX_DELAY_MS + 1 } })).toBe('params.ms');
    expect(await p('ProcessNext', {})).toBe('agent');
    expect(await p('ListAgents', { all: true })).toBe('all');
  });

  it('a notification (no id) is run and answered with 204, no body', async () => {
    const r = await rpcRaw(ga.url, JSON.stringify({ jsonrpc: '2.0', method: 'ListAgents' }));
    expect(r).toEqual({ status: 204, body: null });
    expect((await rpcRaw(ga.url, JSON.stringify({ jsonrpc: '2.0', method: 'Nope' }))).status).toBe(204);
  });

  it('413 for a body over the limit: declared by content-length, or streamed without one', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', method: 'StartAgent', params: { name: 'x'.repeat(300) }, id: 1 });
    const r = await rpcRaw(quick.url, big);
    expect(r.status).toBe(413);
    expect(r.body!.error).toMatchObject({ code: -32600, data: { limit: 200 } });
    const streamed = await new Promise<number>((resolve, reject) => {
      const req = request(`${quick.url}/a2a`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('{"jsonrpc":"2.0","method":"ListAgents","params":{"pad":"');
      req.write('y'.repeat(400));
      // Never finished: the server answers on its own.
    });
    expect(streamed).toBe(413);
  });

  it('no request hangs: a slow method gets 504 (-32004) and a body that never ends 408, within requestTimeoutMs', async () => {
    const name = nameOn(a, 'slow');
    await call(ga.url, 'StartAgent', { name });
    await call(ga.url, 'SendMessage', { agent: name, action: 'delay', params: { ms: 1500, value: 'late' } });
    // The task takes 1500 ms: a 504 (not the task's result) is the 300 ms request timeout answering.
    const r = await rpcRaw(quick.url, JSON.stringify({ jsonrpc: '2.0', id: 'slow-1', method: 'ProcessNext', params: { agent: name } }));
    expect(r.status).toBe(504);
    expect(r.body!.error).toMatchObject({ code: ErrorCode.Timeout });
    expect(r.body!.id).toBe('slow-1');

    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${quick.url}/a2a`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '100' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('{"jsonrpc"');
    });
    expect(status).toBe(408);
  });
});

describe('events cross the network only to nodes with a stream open', () => {
  const streams = (s: AgentServices): number => s.events.groupSizes().find((g) => g.group.endsWith(':streams'))?.members ?? -1;
  /** Signals a sent to b while an agent on a receives and processes `k` tasks through a's gateway (2k events). */
  async function signalsForTasks(name: string, k: number): Promise<number> {
    const before = net.stats(a, b).sent;
    for (let i = 0; i < k; i++) {
      await call(ga.url, 'SendMessage', { agent: name, action: 'echo', params: { text: String(i) } });
      await call(ga.url, 'ProcessNext', { agent: name });
    }
    return net.stats(a, b).sent - before;
  }

  it('with no stream on b, 100 task events on a send b (almost) nothing; with one, each reaches it', async () => {
    const name = nameOn(a, 'quiet');
    await call(ga.url, 'StartAgent', { name });
    // Before this change every event was one signal to every node: 100 here. What may remain is registry background traffic.
    expect(await signalsForTasks(name, 50)).toBeLessThan(10);

    const ev = await openEvents(gb.url);
    try {
      expect(streams(sa)).toBe(1); // ready means a's replica lists b's hub
      const from = ev.mark();
      await signalsForTasks(name, 3);
      for (const type of ['task_received', 'task_completed']) {
        await ev.waitFor((e) => e.event === type && (e.data.data['task'] as { id?: string } | undefined)?.id === `${name}#53`, { from });
      }
    } finally {
      ev.close();
    }
    await until('b left the stream holders on a', () => streams(sa) === 0);
    expect(await signalsForTasks(name, 50)).toBeLessThan(10);
  });
});

describe('events', () => {
  let evA: EventStream;
  let evB: EventStream;
  beforeEach(async () => {
    [evA, evB] = await Promise.all([openEvents(ga.url), openEvents(gb.url)]);
  });
  afterEach(() => {
    evA.close();
    evB.close();
  });

  it('agent and task events happen on one node and stream from the other (SSE)', async () => {
    const name = nameOn(a, 'evented');
    const from = evB.mark();
    await call(gb.url, 'StartAgent', { name });
    expect((await evB.waitFor((e) => e.event === 'agent_started' && e.data.agent === name, { from })).data).toMatchObject({ type: 'agent_started', node: 'a@local', data: { generation: 0 } });
    await call(ga.url, 'SendMessage', { agent: name, action: 'upper', params: { text: 'ev' } });
    await evB.waitFor((e) => e.event === 'task_received' && e.data.agent === name, { from });
    await call(ga.url, 'ProcessNext', { agent: name });
    const done = await evB.waitFor((e) => e.event === 'task_completed' && e.data.agent === name, { from });
    expect(done.data.data).toMatchObject({ result: 'EV', task: { action: 'upper' } });
    await call(ga.url, 'StopAgent', { agent: name });
    const stopped = await evB.waitFor((e) => e.event === 'agent_stopped' && e.data.agent === name, { from });
    expect(stopped.data.node).toBe('a@local');
    expect(Number(stopped.id)).toBeGreaterThan(Number(done.id));
  });

  it('each event reaches each stream exactly once, on the node where it happened and on the other', async () => {
    const name = nameOn(a, 'once');
    await call(ga.url, 'StartAgent', { name });
    await call(ga.url, 'SendMessage', { agent: name, action: 'echo', params: { text: 'x' } });
    await call(ga.url, 'ProcessNext', { agent: name });
    await call(ga.url, 'StopAgent', { agent: name });
    // Fences: an agent started on each node after the events above. Each
    // node's events reach a stream through one ordered path (the local
    // delivery, or the remote hub's sends over one link), so once a
    // stream has both fences it has every copy of every earlier event.
    const fences = [nameOn(a, 'fence'), nameOn(b, 'fence')];
    for (const f of fences) await call(ga.url, 'StartAgent', { name: f });
    for (const ev of [evA, evB]) {
      for (const f of fences) await ev.waitFor((e) => e.event === 'agent_started' && e.data.agent === f);
      expect(ev.events.filter((e) => e.data.agent === name).map((e) => e.event)).toEqual(['agent_started', 'task_received', 'task_completed', 'agent_stopped']);
      expect(new Set(ev.events.map((e) => e.id)).size).toBe(ev.events.length);
    }
  });

  it('?types= filters; an unknown type is a 400', async () => {
    expect((await fetch(`${gb.url}/events?types=agent_started,bogus`)).status).toBe(400);
    const only = await openEvents(gb.url, '?types=node_up,node_down');
    try {
      net.connect(b, c);
      expect((await only.waitFor((e) => e.event === 'node_up')).data).toMatchObject({ node: 'b@local', data: { peer: 'c@local' } });
      await net.disconnect(b, c);
      expect((await only.waitFor((e) => e.event === 'node_down')).data).toMatchObject({ node: 'b@local', data: { peer: 'c@local' } });
      expect(only.events.every((e) => ['ready', 'node_up', 'node_down'].includes(e.event))).toBe(true);
    } finally {
      only.close();
    }
  });
});
