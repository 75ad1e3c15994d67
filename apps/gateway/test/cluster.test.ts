/**
 * The gateway on a real multi-process cluster (apps/harness): every node a
 * separate OS process with its gateway on 127.0.0.1, driven over HTTP.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { homeOf } from '@troupe/registry-crdt';
import { startCluster, type Cluster, type HarnessEvent, type NodeHandle } from '@troupe/harness';
import { ErrorCode } from '../src/index.js';
import { call, openEvents, rpc, until, type EventStream } from './helpers.js';

const SCENARIOS = new URL('./scenarios.ts', import.meta.url).pathname;

let cluster: Cluster;
let a: NodeHandle;
let b: NodeHandle;
const url = new Map<string, string>();
let evA: EventStream;

interface Agents {
  agents: { name: string; node: string; generation: number }[];
}
interface State {
  name: string;
  node: string;
  queue: unknown[];
  processed: number;
  generation: number;
}

/** The first `prefix-i` that rendezvous hashing places on `node` among `nodes`. */
function nameOn(node: NodeHandle, nodes: NodeHandle[], prefix: string): string {
  for (let i = 0; ; i++) if (homeOf(`${prefix}-${i}`, nodes.map((n) => n.name)) === node.name) return `${prefix}-${i}`;
}

/** Until every given node's supervisor sees all of them alive (placement targets). */
async function waitMembers(via: NodeHandle, nodes: NodeHandle[]): Promise<void> {
  const want = nodes.map((n) => n.name).sort();
  await until(`supervisor members ${want.join(', ')} alive on ${via.short}`, async () => {
    const info = await call<{ members: { supervisor: { node: string; status: string }[] } }>(url.get(via.short)!, 'GetClusterInfo', {});
    const alive = info.members.supervisor.filter((m) => m.status === 'alive').map((m) => m.node).sort();
    return JSON.stringify(alive) === JSON.stringify(want);
  }, 10_000);
}

const logged = (agent: string, type: string) => (e: HarnessEvent) =>
  e.kind === 'log' && e.msg === `gateway event ${type}` && (e.data as { agent?: string } | null)?.agent === agent;

// A fresh two-node cluster per test (a second or two to start): no test
// depends on what an earlier one started, killed or restarted. logLevel
// debug: task events are logged at debug.
beforeEach(async () => {
  url.clear();
  cluster = await startCluster({ nodes: ['a', 'b'], scenarios: [SCENARIOS], transport: { tickMs: 250, tickTimeoutMs: 1000 }, logLevel: 'debug' });
  [a, b] = [cluster.node('a'), cluster.node('b')];
  const [ua, ub] = await Promise.all([a.run<string>('gatewayStart'), b.run<string>('gatewayStart')]);
  url.set('a', ua);
  url.set('b', ub);
  await Promise.all([waitMembers(a, [a, b]), waitMembers(b, [a, b])]);
  evA = await openEvents(ua);
}, 60_000);

afterEach(async () => {
  evA?.close();
  await cluster?.stop();
});

describe('gateway on a multi-process cluster', () => {
  const onA = (): string => nameOn(a, [a, b], 'ant');
  const onB = (): string => nameOn(b, [a, b], 'bee');

  it('agents on each node, listed and driven across nodes; events seen (SSE) on the other node and logged where they happened', async () => {
    const markA = a.mark();
    const markB = b.mark();
    const from = evA.mark();
    expect(await call(url.get('a')!, 'StartAgent', { name: onB() })).toEqual({ name: onB(), node: b.name, status: 'started' });
    expect(await call(url.get('b')!, 'StartAgent', { name: onA() })).toEqual({ name: onA(), node: a.name, status: 'started' });

    for (const u of [url.get('a')!, url.get('b')!]) {
      const list = await until('both agents listed', async () => {
        const r = await call<Agents>(u, 'ListAgents', {});
        return r.agents.length === 2 ? r.agents : undefined;
      });
      expect(list.map((x) => [x.name, x.node]).sort()).toEqual([
        [onA(), a.name],
        [onB(), b.name],
      ].sort());
    }
    // The agent on b, driven through a's gateway (and the other way round).
    await call(url.get('a')!, 'SendMessage', { agent: onB(), action: 'upper', params: { text: 'from a' } });
    await call(url.get('a')!, 'SendMessage', { agent: onB(), action: 'sum', params: { numbers: [40, 2] } });
    expect(await call(url.get('a')!, 'ProcessNext', { agent: onB() })).toMatchObject({ status: 'processed', result: 'FROM A' });
    await call(url.get('b')!, 'SendMessage', { agent: onA(), action: 'reverse', params: { text: 'ab' } });
    expect(await call(url.get('b')!, 'ProcessNext', { agent: onA() })).toMatchObject({ status: 'processed', result: 'ba' });
    expect(await call<State>(url.get('b')!, 'GetAgentState', { agent: onB() })).toMatchObject({ node: b.name, processed: 1, queue: [{ action: 'sum' }] });

    // Events that happened on b stream from a's /events...
    const started = await evA.waitFor((e) => e.event === 'agent_started' && e.data.agent === onB(), { from });
    expect(started.data.node).toBe(b.name);
    const done = await evA.waitFor((e) => e.event === 'task_completed' && e.data.agent === onB(), { from });
    expect(done.data.data['result']).toBe('FROM A');
    await evA.waitFor((e) => e.event === 'task_received' && e.data.agent === onA(), { from });
    // ...and each is logged by the node where it happened.
    await b.waitEvent(logged(onB(), 'agent_started'), { since: markB });
    await a.waitEvent(logged(onA(), 'task_completed'), { since: markA });
  });

  /** Starts an agent on each node (through the other node's gateway) and waits until both gateways list both. */
  async function agentOnEach(): Promise<void> {
    await call(url.get('a')!, 'StartAgent', { name: onB() });
    await call(url.get('b')!, 'StartAgent', { name: onA() });
    for (const u of [url.get('a')!, url.get('b')!]) await until('both agents listed', async () => (await call<Agents>(u, 'ListAgents', {})).agents.length === 2);
  }

  /** SIGKILLs b and waits until a has restarted b's agent. */
  async function killB(): Promise<void> {
    const from = evA.mark();
    await b.kill();
    await evA.waitFor((e) => e.event === 'agent_started' && e.data.agent === onB() && e.data.node === a.name, { from, timeoutMs: 10_000 });
  }

  it('SIGKILL of a node: its agents are restarted on the survivor and answer through it by name', async () => {
    await agentOnEach();
    const from = evA.mark();
    await b.kill();
    // The survivor reports the loss and restarts the agent (generation 1).
    expect((await evA.waitFor((e) => e.event === 'node_down', { from, timeoutMs: 10_000 })).data).toMatchObject({ node: a.name, data: { peer: b.name } });
    const restarted = await evA.waitFor((e) => e.event === 'agent_started' && e.data.agent === onB(), { from, timeoutMs: 10_000 });
    expect(restarted.data).toMatchObject({ node: a.name, data: { generation: 1, from: b.name } });
    const st = await until('the moved agent answers', async () => {
      const r = await rpc<State>(url.get('a')!, 'GetAgentState', { agent: onB() });
      return r.body?.result;
    });
    // Restarted after a crash: a fresh state (a graceful drain would have carried the queue).
    expect(st).toMatchObject({ name: onB(), node: a.name, processed: 0, queue: [], generation: 1 });
    await call(url.get('a')!, 'SendMessage', { agent: onB(), action: 'echo', params: { text: 'still here' } });
    expect(await call(url.get('a')!, 'ProcessNext', { agent: onB() })).toMatchObject({ result: 'still here' });
    expect((await call<Agents>(url.get('a')!, 'ListAgents', {})).agents.map((x) => [x.name, x.node]).sort()).toEqual([
      [onA(), a.name],
      [onB(), a.name],
    ].sort());
    expect(await call(url.get('a')!, 'GetClusterInfo', {})).toMatchObject({ self: a.name, connected: [], totalNodes: 1 });
  });

  it('the killed node comes back and takes its share of new agents; a new node joins and does too', async () => {
    await agentOnEach();
    await killB();
    const from = evA.mark();
    await b.restart();
    url.set('b', await b.run<string>('gatewayStart'));
    await evA.waitFor((e) => e.event === 'node_up' && e.data.data['peer'] === b.name, { from });
    await Promise.all([waitMembers(a, [a, b]), waitMembers(b, [a, b])]);
    const back = nameOn(b, [a, b], 'back');
    expect(await call(url.get('a')!, 'StartAgent', { name: back })).toEqual({ name: back, node: b.name, status: 'started' });
    // Agents that moved stay where they are (passive redistribution).
    await until("b's gateway sees the moved agent", async () => (await rpc<State>(url.get('b')!, 'GetAgentState', { agent: onB() })).body?.result?.node === a.name);

    const c = await cluster.addNode('c');
    url.set('c', await c.run<string>('gatewayStart'));
    await Promise.all([a, b, c].map((h) => waitMembers(h, [a, b, c])));
    const newcomer = nameOn(c, [a, b, c], 'new');
    expect(await call(url.get('b')!, 'StartAgent', { name: newcomer })).toEqual({ name: newcomer, node: c.name, status: 'started' });
    // The new node's gateway sees and drives every agent.
    const list = await until('c lists all four agents', async () => {
      const r = await call<Agents>(url.get('c')!, 'ListAgents', {});
      return r.agents.length === 4 ? r.agents : undefined;
    });
    expect(list.map((x) => x.node).sort()).toEqual([a.name, a.name, b.name, c.name].sort());
    await call(url.get('c')!, 'SendMessage', { agent: back, action: 'upper', params: { text: 'c to b' } });
    expect(await call(url.get('c')!, 'ProcessNext', { agent: back })).toMatchObject({ result: 'C TO B' });
    const missing = await rpc(url.get('c')!, 'GetAgentState', { agent: 'never-started' });
    expect(missing.body!.error!.code).toBe(ErrorCode.AgentNotFound);
  });
});
