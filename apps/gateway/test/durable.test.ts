/**
 * Durable agents and SendMessage's messageId, in one process: nodes on a
 * MemoryNetwork sharing one MemoryStore (the multi-process versions, with
 * SQLite and PostgreSQL and a SIGKILL, are in apps/cli/test/durable-agents.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryNetwork, Node, silentLogger } from '@troupe/actor-core';
import { MemoryStore, StoreError, type DurableStateStore } from '@troupe/persistence';
import { homeOf } from '@troupe/registry-crdt';
import { ErrorCode, agentPersistenceId, startAgentServices, startGateway, type AgentServices, type AgentServicesOptions, type Gateway } from '../src/index.js';
import { call, rpc, until } from './helpers.js';

interface State {
  node: string;
  queue: { id: string; messageId?: string; params: unknown }[];
  processed: number;
  generation: number;
  durable: boolean;
}

const nodes: Node[] = [];
const gateways: Gateway[] = [];
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
  for (const n of nodes.splice(0)) n.shutdown();
});

/** `n` meshed nodes with agent services (over `store` when given) and a gateway each. */
async function cluster(n: number, opts: AgentServicesOptions = {}): Promise<{ net: MemoryNetwork; ns: Node[]; ss: AgentServices[]; urls: string[] }> {
  const net = new MemoryNetwork();
  const ns = Array.from({ length: n }, (_, i) => new Node({ name: `n${i}@local`, logger: silentLogger }));
  nodes.push(...ns);
  net.mesh(...ns);
  const ss = await Promise.all(ns.map((x) => startAgentServices(x, { logEvents: 'silent', orphanGraceMs: 200, ...opts })));
  await until('every node a placement target', () => ss.every((s) => s.supervisor.targets().length === n));
  const gs = await Promise.all(ss.map((s) => startGateway({ services: s })));
  gateways.push(...gs);
  return { net, ns, ss, urls: gs.map((g) => g.url) };
}

function nameOn(node: Node, all: Node[], prefix: string): string {
  for (let i = 0; ; i++) if (homeOf(`${prefix}-${i}`, all.map((x) => x.name)) === node.name) return `${prefix}-${i}`;
}

describe.each([
  ['in memory', false],
  ['durable', true],
])('SendMessage messageId (%s)', (_label, durable) => {
  it('a retry with the same id queues nothing and gets the first answer; other ids and other agents are separate', async () => {
    const { urls, ss } = await cluster(2, durable ? { store: new MemoryStore().states } : {});
    await call(urls[0]!, 'StartAgent', { name: 'm' });
    await call(urls[0]!, 'StartAgent', { name: 'm2' });
    // StartAgent answers once the name is visible on its own node; the other gateway resolves it after the registry's push.
    await until('m visible on the second node', () => ss[1]!.registry.whereisName('m') !== undefined);
    const first = await rpc(urls[0]!, 'SendMessage', { agent: 'm', action: 'todo', params: { text: 'once' }, messageId: 'msg-1' });
    expect(first.body?.result).toMatchObject({ status: 'queued', queueLength: 1, task: { id: 'm#1', messageId: 'msg-1', params: { text: 'once' } } });
    // Through the other gateway too: the agent, not the gateway, remembers.
    const retry = await rpc(urls[1]!, 'SendMessage', { agent: 'm', action: 'todo', params: { text: 'once' }, messageId: 'msg-1' });
    expect(retry.body?.result).toEqual(first.body?.result);
    await call(urls[0]!, 'SendMessage', { agent: 'm', action: 'todo', params: { text: 'twice' }, messageId: 'msg-2' });
    await call(urls[0]!, 'SendMessage', { agent: 'm', action: 'todo', params: { text: 'no id' } });
    // The same id on another agent is another message.
    expect(await call(urls[0]!, 'SendMessage', { agent: 'm2', action: 'todo', params: {}, messageId: 'msg-1' })).toMatchObject({ task: { id: 'm2#1' } });
    const s = await call<State>(urls[1]!, 'GetAgentState', { agent: 'm' });
    expect(s.queue.map((t) => t.id)).toEqual(['m#1', 'm#2', 'm#3']);
    expect(s.queue.map((t) => t.messageId)).toEqual(['msg-1', 'msg-2', undefined]);
    expect(s.durable).toBe(durable);
    // Processed and retried: still the first answer, nothing queued.
    await call(urls[0]!, 'ProcessNext', { agent: 'm' });
    expect((await rpc(urls[0]!, 'SendMessage', { agent: 'm', action: 'todo', params: { text: 'once' }, messageId: 'msg-1' })).body?.result).toEqual(first.body?.result);
    expect((await call<State>(urls[0]!, 'GetAgentState', { agent: 'm' })).queue.map((t) => t.id)).toEqual(['m#2', 'm#3']);
  });

  it('a refused message (queue full) is answered the same on retry; a new id is a new message', async () => {
    const { urls } = await cluster(1, { maxQueue: 1, ...(durable ? { store: new MemoryStore().states } : {}) });
    await call(urls[0]!, 'StartAgent', { name: 'f' });
    await call(urls[0]!, 'SendMessage', { agent: 'f', action: 'todo', params: {} });
    const full = await rpc(urls[0]!, 'SendMessage', { agent: 'f', action: 'todo', params: {}, messageId: 'x' });
    expect(full.body?.error?.code).toBe(ErrorCode.QueueFull);
    await call(urls[0]!, 'ProcessNext', { agent: 'f' });
    expect((await rpc(urls[0]!, 'SendMessage', { agent: 'f', action: 'todo', params: {}, messageId: 'x' })).body?.error).toEqual(full.body?.error);
    expect(await call(urls[0]!, 'SendMessage', { agent: 'f', action: 'todo', params: {}, messageId: 'y' })).toMatchObject({ queueLength: 1 });
  });

  it('ids beyond the retention count are forgotten (bounded): their retry is a new message', async () => {
    const { urls } = await cluster(1, { messageIds: { count: 2 }, ...(durable ? { store: new MemoryStore().states } : {}) });
    await call(urls[0]!, 'StartAgent', { name: 'r' });
    for (const id of ['a', 'b', 'c']) await call(urls[0]!, 'SendMessage', { agent: 'r', action: 'todo', params: {}, messageId: id });
    expect(await call(urls[0]!, 'SendMessage', { agent: 'r', action: 'todo', params: {}, messageId: 'c' })).toMatchObject({ task: { id: 'r#3' } });
    expect(await call(urls[0]!, 'SendMessage', { agent: 'r', action: 'todo', params: {}, messageId: 'a' })).toMatchObject({ task: { id: 'r#4' } });
  });
});

it('a bad messageId is -32602 naming it', async () => {
  const { urls } = await cluster(1);
  await call(urls[0]!, 'StartAgent', { name: 'v' });
  for (const bad of ['', 'has space', 'x'.repeat(129), 7, 'é']) {
    const r = await rpc(urls[0]!, 'SendMessage', { agent: 'v', action: 'todo', messageId: bad });
    expect(r.body?.error).toMatchObject({ code: ErrorCode.InvalidParams, data: { param: 'messageId' } });
  }
});

describe('durable agents', () => {
  it("survive their node's death: the survivor recovers queue, counters and message ids; a retry after failover queues nothing", async () => {
    const store = new MemoryStore();
    const { net, ns, urls } = await cluster(2, { store: store.states });
    const [a, b] = ns as [Node, Node];
    const name = nameOn(a, ns, 'dur');
    await call(urls[1]!, 'StartAgent', { name });
    for (let i = 0; i < 3; i++) await call(urls[1]!, 'SendMessage', { agent: name, action: 'upper', params: { text: `t${i}` }, messageId: `id-${i}` });
    await call(urls[1]!, 'ProcessNext', { agent: name });
    const before = await call<State>(urls[1]!, 'GetAgentState', { agent: name });
    expect(before).toMatchObject({ node: a.name, processed: 1, durable: true });

    // a dies without a drain (its services never leave): b restarts the agent from the store.
    await net.disconnect(a, b);
    a.shutdown();
    const after = await until('the agent answering on b', async () => {
      const s = await call<State>(urls[1]!, 'GetAgentState', { agent: name });
      return s.node === b.name && s;
    }, 10_000);
    expect(after.queue).toEqual(before.queue);
    expect(after.processed).toBe(1);
    expect(after.generation).toBe(1);
    expect((await rpc(urls[1]!, 'SendMessage', { agent: name, action: 'upper', params: { text: 't2' }, messageId: 'id-2' })).body?.result).toMatchObject({ task: { id: `${name}#3` }, queueLength: 3 });
    expect(await call(urls[1]!, 'ProcessNext', { agent: name })).toMatchObject({ status: 'processed', task: { id: `${name}#2` }, result: 'T1' });
  });

  it('a drain moves them with no hand-over data: the next home reads the store', async () => {
    const store = new MemoryStore();
    const { ns, ss, urls } = await cluster(2, { store: store.states });
    const [a, b] = ns as [Node, Node];
    const name = nameOn(a, ns, 'drain');
    await call(urls[1]!, 'StartAgent', { name });
    await call(urls[1]!, 'SendMessage', { agent: name, action: 'todo', params: { k: 1 }, messageId: 'd-1' });
    const before = await call<State>(urls[1]!, 'GetAgentState', { agent: name });
    expect(before.node).toBe(a.name);
    await ss[0]!.stop(); // drain
    const after = await until('the agent on b', async () => {
      const st = await call<State>(urls[1]!, 'GetAgentState', { agent: name });
      return st.node === b.name && st;
    });
    expect(after.queue).toEqual(before.queue);
    expect(await call(urls[1]!, 'SendMessage', { agent: name, action: 'todo', params: { k: 1 }, messageId: 'd-1' })).toMatchObject({ queueLength: 1, task: { id: `${name}#1` } });
  });

  it('StopAgent deletes the stored state: the name starts empty again', async () => {
    const store = new MemoryStore();
    const { urls } = await cluster(1, { store: store.states });
    await call(urls[0]!, 'StartAgent', { name: 's' });
    await call(urls[0]!, 'SendMessage', { agent: 's', action: 'todo', params: {} });
    const id = agentPersistenceId('agents', undefined)('s');
    expect(await store.states.get(id)).toBeDefined();
    await call(urls[0]!, 'StopAgent', { agent: 's' });
    expect(await store.states.get(id)).toBeUndefined();
    await until('s gone from the registry', async () => (await call<{ agents: unknown[] }>(urls[0]!, 'ListAgents')).agents.length === 0);
    await call(urls[0]!, 'StartAgent', { name: 's' });
    expect(await call<State>(urls[0]!, 'GetAgentState', { agent: 's' })).toMatchObject({ queue: [], processed: 0 });
  });

  it('a failing store does not take the node down: the request fails, the agent stops (persist_failed) and restarts with what was stored', async () => {
    const inner = new MemoryStore().states;
    let failing = false;
    const flaky: DurableStateStore = {
      get: (id) => inner.get(id),
      upsert: (id, rev, s, v) => (failing ? Promise.reject(new StoreError('disk on fire')) : inner.upsert(id, rev, s, v)),
      delete: (id, rev) => inner.delete(id, rev),
    };
    const { urls, ss } = await cluster(1, { store: flaky });
    await call(urls[0]!, 'StartAgent', { name: 'k' });
    await call(urls[0]!, 'SendMessage', { agent: 'k', action: 'todo', params: { n: 1 } });
    const was = await call<State & { startedAt: string }>(urls[0]!, 'GetAgentState', { agent: 'k' });
    failing = true;
    const r = await rpc(urls[0]!, 'SendMessage', { agent: 'k', action: 'todo', params: { n: 2 } });
    expect(r.body?.error?.code).toBe(ErrorCode.InternalError);
    expect(r.body?.error?.message).toMatch(/disk on fire/);
    failing = false;
    const s = await until('k restarted', async () => {
      const st = await call<State & { startedAt: string }>(urls[0]!, 'GetAgentState', { agent: 'k' });
      // A local restart keeps the generation (it counts moves between nodes): a new incarnation has a new startedAt.
      return st.startedAt !== was.startedAt && st;
    });
    expect(s.queue.map((t) => t.params)).toEqual([{ n: 1 }]);
    expect(ss[0]!.running).toBe(true);
    expect(await call(urls[0]!, 'SendMessage', { agent: 'k', action: 'todo', params: { n: 3 } })).toMatchObject({ queueLength: 2 });
  });
});
