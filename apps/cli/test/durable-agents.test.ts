/**
 * Durable agents through HTTP on real `troupe node` processes sharing a
 * real store (one SQLite file; a PostgreSQL server started for the test):
 * an agent's queue survives a SIGKILL of its node, and a retried
 * SendMessage with a messageId queues nothing twice, before and after the
 * failover.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { homeOf } from '@troupe/registry-crdt';
import { SqliteStore } from '@troupe/persistence/sqlite';
import { startTempPostgres, type TempPostgres } from '@troupe/persistence/testkit/postgres';
import { eventually, killAll, startCli, within, type CliProcess } from './cli-process.js';

afterEach(() => killAll());

let dir = '';
let pg: TempPostgres | undefined;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'troupe-durable-agents-'));
  pg = await startTempPostgres();
}, 60_000);
afterAll(async () => {
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const env = { TROUPE_COOKIE: randomBytes(16).toString('hex') };

interface Rpc<T> {
  result?: T;
  error?: { code: number; message: string };
}
async function rpc<T>(http: string, method: string, params: Record<string, unknown>): Promise<Rpc<T>> {
  const res = await fetch(`${http}/a2a`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const body = (await res.json()) as Rpc<T>;
  return { ...(body.result !== undefined ? { result: body.result } : {}), ...(body.error !== undefined ? { error: body.error } : {}) };
}
async function call<T>(http: string, method: string, params: Record<string, unknown>): Promise<T> {
  const r = await rpc<T>(http, method, params);
  if (r.result === undefined) throw new Error(`${method}: ${r.error?.code} ${r.error?.message}`);
  return r.result;
}

interface Task {
  id: string;
  params: Record<string, unknown>;
  messageId?: string;
}
interface State {
  node: string;
  queue: Task[];
  processed: number;
  generation: number;
  durable: boolean;
}

interface Started {
  p: CliProcess;
  name: string;
  http: string;
  mesh: string;
}

async function node(short: string, store: string, join: string[]): Promise<Started> {
  const p = startCli(['node', '--name', short, '--port', '0', '--dist-port', '0', '--no-local-discovery', '--store', store, ...join.flatMap((j) => ['--join', j])], env);
  const ready = await p.waitLine(new RegExp(` ready ${short}@`), 30_000);
  expect(p.lines.some((l) => / store .*: agents are durable$/.test(l))).toBe(true);
  const m = /mesh=(ws:\/\/\S+) http=(http:\/\/\S+)/.exec(ready)!;
  return { p, name: `${short}@127.0.0.1`, mesh: m[1]!, http: m[2]! };
}

/** Until `via` sees every node in `names` as an alive supervisor member. */
async function members(via: Started, names: string[]): Promise<void> {
  const want = [...names].sort().join(',');
  await eventually(`${names.join(', ')} alive in ${via.name}'s supervisor`, async () => {
    const info = await call<{ members: { supervisor: { node: string; status: string }[] } }>(via.http, 'GetClusterInfo', {});
    return info.members.supervisor.filter((m) => m.status === 'alive').map((m) => m.node).sort().join(',') === want;
  }, 20_000);
}

describe.each(['sqlite', 'postgres'] as const)('durable agents over HTTP, shared %s store', (kind) => {
  it("an agent's queue survives a SIGKILL of its node; a retried messageId queues nothing twice and answers the same", async () => {
    let store: string;
    const prefix = `${kind}-${randomBytes(3).toString('hex')}`;
    if (kind === 'sqlite') {
      const path = join(dir, `${prefix}.db`);
      await new SqliteStore({ path, writer: 'inline' }).close(); // the schema, before three processes open the file
      store = `sqlite:${path}`;
    } else {
      store = pg!.connectionString;
    }
    const a = await node(`${prefix}-a`, store, []);
    const [b, c] = await Promise.all([node(`${prefix}-b`, store, [a.mesh]), node(`${prefix}-c`, store, [a.mesh])]);
    const all = [a, b, c];
    await Promise.all(all.map((x) => members(x, all.map((y) => y.name))));

    // An agent whose home is c (rendezvous hashing over the three), driven through a and b.
    let agent = '';
    for (let i = 0; homeOf(agent, all.map((x) => x.name)) !== c.name || agent === ''; i++) agent = `agent-${i}`;
    expect(await call(a.http, 'StartAgent', { name: agent })).toMatchObject({ node: c.name, status: 'started' });
    // StartAgent answers once the name is visible on a; b resolves it after the registry's push.
    await eventually('the agent visible through b', async () => (await rpc<State>(b.http, 'GetAgentState', { agent })).result !== undefined, 10_000);
    const N = 5;
    let first: Rpc<unknown> | undefined;
    for (let i = 0; i < N; i++) {
      const msg = { agent, action: 'upper', params: { text: `task ${i}` }, ...(i === 2 ? { messageId: 'client-42' } : {}) };
      const r = await rpc(i % 2 === 0 ? a.http : b.http, 'SendMessage', msg);
      expect(r.result).toMatchObject({ status: 'queued', queueLength: i + 1 });
      if (i === 2) {
        first = r;
        // The retry (as after a lost answer), through another gateway: nothing queued, the same answer.
        expect(await rpc(b.http, 'SendMessage', msg)).toEqual(first);
      }
    }
    const before = await call<State>(b.http, 'GetAgentState', { agent });
    expect(before).toMatchObject({ node: c.name, processed: 0, durable: true });
    expect(before.queue.map((t) => t.params['text'])).toEqual(Array.from({ length: N }, (_, i) => `task ${i}`));

    // The agent's node counts its store writes on /metrics (one per queued task).
    const metrics = await (await fetch(`${c.http}/metrics`)).text();
    expect(Number(/^troupe_store_writes_total\{kind="state",outcome="ok"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(N);

    c.p.child.kill('SIGKILL');
    await within(c.p.exited, 10_000, 'c exit');
    // Bounded: the survivors detect the death (mesh ticks), the first survivor of the ranking restarts the agent from the store.
    let after: State | undefined;
    await eventually('the agent answering on a survivor', async () => {
      const r = await rpc<State>(a.http, 'GetAgentState', { agent });
      if (r.result !== undefined && r.result.node !== c.name) after = r.result;
      return after !== undefined;
    }, 30_000);
    expect([a.name, b.name]).toContain(after!.node);
    expect(after!.queue).toEqual(before.queue);
    expect(after!.generation).toBe(before.generation + 1);
    // b's registry replica learns the new claim a moment after a's (eventually consistent): bounded wait, then the same state.
    let viaB: State | undefined;
    await eventually('the agent answering through b', async () => {
      const r = await rpc<State>(b.http, 'GetAgentState', { agent });
      if (r.result !== undefined && r.result.node !== c.name) viaB = r.result;
      return viaB !== undefined;
    }, 30_000);
    expect(viaB).toMatchObject({ node: after!.node, queue: before.queue });

    // The retry after the failover: still nothing queued twice, still the first answer.
    expect(await rpc(a.http, 'SendMessage', { agent, action: 'upper', params: { text: 'task 2' }, messageId: 'client-42' })).toEqual(first);
    // The task queued before the kill is processed on the new home.
    expect(await call(b.http, 'ProcessNext', { agent })).toMatchObject({ status: 'processed', task: { id: before.queue[0]!.id }, result: 'TASK 0' });
    expect(await call<State>(a.http, 'GetAgentState', { agent })).toMatchObject({ processed: 1, queue: before.queue.slice(1) });

    for (const x of [a, b]) x.p.child.kill('SIGTERM');
    for (const x of [a, b]) expect((await within(x.p.exited, 15_000, `${x.name} exit`)).code).toBe(0);
  }, 120_000);
});

it('troupe node --store with a store it cannot open: one error line, exit 1', async () => {
  const p = startCli(['node', '--name', 'nostore', '--port', '0', '--dist-port', '0', '--no-local-discovery', '--store', `sqlite:${join(dir, 'no-such-dir', 'x.db')}`], env);
  const { code } = await within(p.exited, 20_000, 'exit');
  expect(code).toBe(1);
  expect(p.stderr.some((l) => /cannot open the store sqlite:.*no-such-dir/.test(l))).toBe(true);
});

it('the store going away does not take the node down: SendMessage fails with an error, the node keeps serving', async () => {
  const own = await startTempPostgres();
  try {
    const a = await node('lost-store', own.connectionString, []);
    await call(a.http, 'StartAgent', { name: 'fragile' });
    await call(a.http, 'SendMessage', { agent: 'fragile', action: 'todo', params: { n: 1 } });
    await own.stop();
    const r = await rpc(a.http, 'SendMessage', { agent: 'fragile', action: 'todo', params: { n: 2 } });
    // The agent stopped with its documented reason (the supervisor restarts it; its recovery fails until the store is back).
    expect(r.error, JSON.stringify(r)).toMatchObject({ code: -32603, message: expect.stringMatching(/persist_failed.*TROUPE_ERR_STORE/) });
    expect(a.p.child.exitCode).toBeNull();
    expect(((await (await fetch(`${a.http}/health`)).json()) as { node: string }).node).toBe('lost-store@127.0.0.1');
    expect(a.p.lines.some((l) => /persist_failed|PostgreSQL/.test(l)), a.p.lines.slice(-10).join('\n')).toBe(true);
    a.p.child.kill('SIGTERM');
    expect((await within(a.p.exited, 15_000, 'exit')).code).toBe(0);
  } finally {
    await own.stop();
  }
}, 60_000);
