/**
 * Free-form task actions over real HTTP: the tutorial's `search` / `analyze`
 * calls, an application's own handlers, the default handler.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryNetwork, Node, silentLogger } from '@troupe/actor-core';
import { homeOf } from '@troupe/registry-crdt';
import { registerAction, startAgentServices, startGateway, unregisterAction, type AgentServices, type Gateway } from '../src/index.js';
import { call, rpc, until } from './helpers.js';

let a: Node;
let b: Node;
let sa: AgentServices;
let sb: AgentServices;
let ga: Gateway;

beforeEach(async () => {
  const net = new MemoryNetwork();
  a = new Node({ name: 'a@local', logger: silentLogger });
  b = new Node({ name: 'b@local', logger: silentLogger });
  net.mesh(a, b);
  [sa, sb] = await Promise.all([startAgentServices(a, { logEvents: 'silent' }), startAgentServices(b, { logEvents: 'silent' })]);
  await until('both nodes are placement targets', () => sa.supervisor.targets().length === 2 && sb.supervisor.targets().length === 2);
  ga = await startGateway({ node: a, services: sa });
});

afterEach(async () => {
  await ga?.close();
  for (const n of [a, b]) n.shutdown();
});

/** The first agent name rendezvous hashing places on `node`. */
function nameOn(node: Node, prefix: string): string {
  for (let i = 0; ; i++) if (homeOf(`${prefix}-${i}`, [a.name, b.name]) === node.name) return `${prefix}-${i}`;
}

interface Processed {
  status: string;
  task: { action: string; params: Record<string, unknown> };
  result: unknown;
}

describe('free-form task actions', () => {
  it("the tutorial's search and analyze tasks are queued and processed (the default handler)", async () => {
    await call(ga.url, 'StartAgent', { name: 'researcher' });
    const q1 = await call<{ status: string; queueLength: number }>(ga.url, 'SendMessage', { agent: 'researcher', action: 'search', params: { query: 'distributed systems' } });
    expect(q1).toMatchObject({ status: 'queued', queueLength: 1 });
    const q2 = await call<{ status: string; queueLength: number }>(ga.url, 'SendMessage', { agent: 'researcher', action: 'analyze', params: { data: [1, 2, 3] } });
    expect(q2).toMatchObject({ status: 'queued', queueLength: 2 });
    const r1 = await call<Processed>(ga.url, 'ProcessNext', { agent: 'researcher' });
    expect(r1).toMatchObject({ status: 'processed', task: { action: 'search' }, result: { action: 'search', params: { query: 'distributed systems' }, handled: 'default' } });
    const r2 = await call<Processed>(ga.url, 'ProcessNext', { agent: 'researcher' });
    expect(r2.result).toEqual({ action: 'analyze', params: { data: [1, 2, 3] }, handled: 'default' });
    expect(await call(ga.url, 'ProcessNext', { agent: 'researcher' })).toEqual({ status: 'empty' });
  });

  it('handlers an application registers run where the agent lives; built-ins are unchanged', async () => {
    for (const n of [a, b]) {
      registerAction(n, 'search', {
        validate: (p) => {
          const q = (p as { query?: unknown } | undefined)?.query;
          if (typeof q !== 'string') throw new Error('query must be a string');
          return { query: q };
        },
        run: (p) => ({ hits: [`${String(p['query'])}: result on ${n.name}`] }),
      });
    }
    const agent = nameOn(b, 'r');
    await call(ga.url, 'StartAgent', { name: agent });
    await call(ga.url, 'SendMessage', { agent, action: 'search', params: { query: 'troupe' } });
    await call(ga.url, 'SendMessage', { agent, action: 'upper', params: { text: 'hi' } });
    expect((await call<Processed>(ga.url, 'ProcessNext', { agent })).result).toEqual({ hits: ['troupe: result on b@local'] });
    expect((await call<Processed>(ga.url, 'ProcessNext', { agent })).result).toBe('HI');
    // The registered validator runs when the task is queued: a bad task never reaches the agent.
    const bad = await rpc(ga.url, 'SendMessage', { agent, action: 'search', params: { query: 7 } });
    expect(bad.body!.error).toMatchObject({ code: -32602, message: "invalid params: 'params' query must be a string", data: { param: 'params' } });
    expect(() => registerAction(a, 'echo', { run: () => null })).toThrow(/built-in/);
    expect(unregisterAction(a, 'search')).toBe(true);
  });

  it('an action name is still checked: not a string, empty, or with spaces is -32602', async () => {
    for (const action of [7, '', 'has space', 'x'.repeat(65)]) {
      const r = await rpc(ga.url, 'SendMessage', { agent: 'x', action, params: {} });
      expect(r.body!.error).toMatchObject({ code: -32602, data: { param: 'action' } });
    }
    const r = await rpc(ga.url, 'SendMessage', { agent: 'x', action: 'search', params: 'not an object' });
    expect(r.body!.error).toMatchObject({ code: -32602, data: { param: 'params' } });
  });

  it('GET /health/ with a trailing slash is /health', async () => {
    const r = await fetch(`${ga.url}/health/`);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ node: 'a@local' });
  });
});
