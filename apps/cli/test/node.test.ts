import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_HTTP_PORT, DIST_PORT_OFFSET } from '../src/args.js';
import { PORT_SEARCH } from '../src/node-cmd.js';
import { afterEach, expect, it } from 'vitest';
import { alive, eventually, killAll, startCli, within } from './cli-process.js';

afterEach(() => killAll());

const env = { TROUPE_COOKIE: randomBytes(16).toString('hex') };

it('troupe node: ready line, GET /health, SIGTERM drains and exits 0', async () => {
  // Port 0 for HTTP and mesh: nothing to collide with parallel tests.
  const p = startCli(['node', '--name', 'solo', '--port', '0', '--dist-port', '0'], env);
  const ready = await p.waitLine(/ ready solo@127\.0\.0\.1 /, 20_000);
  const m = /mesh=(ws:\/\/\S+) http=(http:\/\/\S+)/.exec(ready);
  expect(m).not.toBeNull();
  const health = (await (await fetch(`${m![2]}/health`)).json()) as { status: string; node: string };
  expect(health).toMatchObject({ status: 'ok', node: 'solo@127.0.0.1' });

  p.child.kill('SIGTERM');
  const { code, signal } = await within(p.exited, 12_000, 'exit after SIGTERM');
  expect({ code, signal }).toEqual({ code: 0, signal: null });
  expect(p.lines.some((l) => / SIGTERM: draining$/.test(l))).toBe(true);
  expect(p.lines.some((l) => / stopped \(.*left the registry\)$/.test(l))).toBe(true);
  expect(alive(p.child.pid!)).toBe(false);
  await expect(fetch(`${m![2]}/health`)).rejects.toThrow(); // its HTTP port is closed
});

async function rpc<T>(http: string, method: string, params: Record<string, unknown>): Promise<T> {
  const res = await fetch(`${http}/a2a`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.result === undefined) throw new Error(`${method}: ${body.error?.message ?? 'no result'}`);
  return body.result;
}

it('troupe node --join, then SIGTERM: the node drains, its agent moves to the other node with its queue', async () => {
  const a = startCli(['node', '--name', 'ja', '--port', '0', '--dist-port', '0'], env);
  const readyA = await a.waitLine(/ ready ja@/, 20_000);
  const mesh = /mesh=(ws:\/\/\S+)/.exec(readyA)![1]!;
  const b = startCli(['node', '--name', 'jb', '--port', '0', '--dist-port', '0', '--join', mesh], env);
  const httpB = /http=(http:\/\/\S+)/.exec(await b.waitLine(/ ready jb@/, 20_000))![1]!;
  await b.waitLine(/ nodeup ja@127\.0\.0\.1$/, 10_000);
  await a.waitLine(/ nodeup jb@127\.0\.0\.1$/, 10_000);

  // ja must be a placement target in jb's view (its supervisor synced) before agents can land there.
  const jaAlive = async (): Promise<boolean> => {
    const info = await rpc<{ members: { supervisor: { node: string; status: string }[] } }>(httpB, 'GetClusterInfo', {});
    return info.members.supervisor.some((m) => m.node === 'ja@127.0.0.1' && m.status === 'alive');
  };
  await eventually("ja alive in jb's supervisor members", jaAlive, 10_000);
  // Placement is by hash of the name: start agents until one lands on ja (each name has even odds).
  let onA: string | null = null;
  for (let i = 0; i < 20 && onA === null; i++) {
    const started = await rpc<{ name: string; node: string }>(httpB, 'StartAgent', { name: `agent${i}` });
    if (started.node === 'ja@127.0.0.1') onA = started.name;
  }
  expect(onA).not.toBeNull();
  await rpc(httpB, 'SendMessage', { agent: onA, action: 'echo', params: { text: 'kept' } });

  a.child.kill('SIGTERM');
  expect((await within(a.exited, 12_000, 'a exit')).code).toBe(0);
  expect(a.lines.some((l) => / stopped \([1-9]\d* agent\(s\) handed over/.test(l))).toBe(true);
  const state = await rpc<{ node: string; queue: unknown[] }>(httpB, 'GetAgentState', { agent: onA });
  expect(state.node).toBe('jb@127.0.0.1');
  expect(state.queue).toHaveLength(1);

  b.child.kill('SIGINT');
  expect((await within(b.exited, 12_000, 'b exit')).code).toBe(0);
});

it('troupe node on a taken port: one line, exit 1', async () => {
  const a = startCli(['node', '--name', 'pa', '--port', '0', '--dist-port', '0'], env);
  const port = /http=http:\/\/127\.0\.0\.1:(\d+)/.exec(await a.waitLine(/ ready pa@/, 20_000))![1]!;
  const b = startCli(['node', '--name', 'pb', '--port', port, '--dist-port', '0'], env);
  const { code } = await within(b.exited, 20_000, 'b exit');
  expect(code).toBe(1);
  expect(b.stderr.at(-1)).toMatch(/^troupe: .*(in use|EADDRINUSE)/);
  a.child.kill('SIGTERM');
  expect((await within(a.exited, 12_000, 'a exit')).code).toBe(0);
});

it('troupe node on a taken --dist-port: one line naming the port, exit 1 (an explicit port is strict)', async () => {
  const holder = createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
  const port = (holder.address() as AddressInfo).port;
  try {
    const p = startCli(['node', '--name', 'pm', '--port', '0', '--dist-port', String(port)], env);
    const { code } = await within(p.exited, 20_000, 'exit');
    expect(code).toBe(1);
    expect(p.stderr).toEqual([`troupe: cannot listen on 127.0.0.1:${port}: the port is in use by another process`]);
  } finally {
    await new Promise<void>((r) => holder.close(() => r()));
  }
});

it('troupe node with the default ports taken takes the next free ones and prints them', async () => {
  // Hold the defaults (or find them held already: taken either way).
  const held: Server[] = [];
  for (const port of [DEFAULT_HTTP_PORT, DEFAULT_HTTP_PORT + DIST_PORT_OFFSET]) {
    const s = createServer();
    const ok = await new Promise<boolean>((r) => {
      s.once('error', () => r(false));
      s.listen(port, '127.0.0.1', () => r(true));
    });
    if (ok) held.push(s);
  }
  try {
    const p = startCli(['node', '--name', 'dflt'], env);
    const ready = await p.waitLine(/ ready dflt@/, 20_000);
    const m = /mesh=ws:\/\/127\.0\.0\.1:(\d+) http=http:\/\/127\.0\.0\.1:(\d+)/.exec(ready);
    expect(m).not.toBeNull();
    const [mesh, http] = [Number(m![1]), Number(m![2])];
    expect(mesh).toBeGreaterThan(DEFAULT_HTTP_PORT + DIST_PORT_OFFSET);
    expect(mesh).toBeLessThan(DEFAULT_HTTP_PORT + DIST_PORT_OFFSET + PORT_SEARCH);
    expect(http).toBeGreaterThan(DEFAULT_HTTP_PORT);
    expect(http).toBeLessThan(DEFAULT_HTTP_PORT + PORT_SEARCH);
    const health = (await (await fetch(`http://127.0.0.1:${http}/health`)).json()) as { node: string };
    expect(health.node).toBe('dflt@127.0.0.1');
    p.child.kill('SIGTERM');
    expect((await within(p.exited, 12_000, 'exit')).code).toBe(0);
  } finally {
    await Promise.all(held.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
});

it('two troupe node processes with only --name and the same cookie find each other (local discovery); one killed and restarted under its name rejoins', async () => {
  const nodesDir = mkdtempSync(join(tmpdir(), 'troupe-find-'));
  const e = { ...env, TROUPE_NODES_DIR: nodesDir };
  try {
    const a = startCli(['node', '--name', 'finda'], e);
    const b = startCli(['node', '--name', 'findb'], e);
    await a.waitLine(/ ready finda@/, 20_000);
    await b.waitLine(/ ready findb@/, 20_000);
    await a.waitLine(/ nodeup findb@127\.0\.0\.1$/, 10_000);
    await b.waitLine(/ nodeup finda@127\.0\.0\.1$/, 10_000);

    const from = b.lines.length;
    a.child.kill('SIGKILL');
    await within(a.exited, 5000, 'a killed');
    await b.waitLine(/ nodedown finda@127\.0\.0\.1/, 15_000, from);
    const again = startCli(['node', '--name', 'finda'], e);
    await again.waitLine(/ ready finda@/, 20_000);
    await b.waitLine(/ nodeup finda@127\.0\.0\.1$/, 10_000, from);
    await again.waitLine(/ nodeup findb@127\.0\.0\.1$/, 10_000);

    for (const p of [again, b]) p.child.kill('SIGTERM');
    for (const p of [again, b]) expect((await within(p.exited, 12_000, 'exit')).code).toBe(0);
    // Both withdrew their entries; the killed one's was replaced by its restart's.
    expect(readdirSync(nodesDir)).toEqual([]);
  } finally {
    rmSync(nodesDir, { recursive: true, force: true });
  }
}, 90_000);

it('troupe node whose seed refuses its cookie: an error line naming the seed and reason, /health unreachable (503)', async () => {
  const seed = startCli(['node', '--name', 'cseed', '--port', '0', '--dist-port', '0', '--no-local-discovery'], { TROUPE_COOKIE: randomBytes(16).toString('hex') });
  const mesh = /mesh=(ws:\/\/\S+)/.exec(await seed.waitLine(/ ready cseed@/, 20_000))![1]!;
  const a = startCli(['node', '--name', 'cwrong', '--port', '0', '--dist-port', '0', '--no-local-discovery', '--join', mesh], env);
  const http = /http=(http:\/\/\S+)/.exec(await a.waitLine(/ ready cwrong@/, 20_000))![1]!;
  const line = await a.waitLine(/ ERROR: discovery: a seed refused this node /, 10_000);
  expect(line).toContain(`"url":"${mesh}"`);
  expect(line).toContain('"reason":"bad_cookie"');
  const r = await fetch(`${http}/health`);
  expect(r.status).toBe(503);
  expect(await r.json()).toMatchObject({ status: 'unreachable', reasons: [`${mesh}: refused (bad_cookie)`] });
  for (const p of [a, seed]) p.child.kill('SIGTERM');
  for (const p of [a, seed]) expect((await within(p.exited, 12_000, 'exit')).code).toBe(0);
});

it('a node killed and started again under its name rejoins: GetClusterInfo counts it and its agents are reachable again', async () => {
  const nodesDir = mkdtempSync(join(tmpdir(), 'troupe-rejoin-'));
  const e = { ...env, TROUPE_NODES_DIR: nodesDir };
  try {
    const a = startCli(['node', '--name', 'ra', '--port', '0', '--dist-port', '0'], e);
    const b = startCli(['node', '--name', 'rb', '--port', '0', '--dist-port', '0'], e);
    await a.waitLine(/ ready ra@/, 20_000);
    const httpB = /http=(http:\/\/\S+)/.exec(await b.waitLine(/ ready rb@/, 20_000))![1]!;
    await b.waitLine(/ nodeup ra@127\.0\.0\.1$/, 10_000);
    const count = async (): Promise<number> => (await rpc<{ totalNodes: number }>(httpB, 'GetClusterInfo', {})).totalNodes;
    await eventually('both nodes counted', async () => (await count()) === 2, 10_000);
    const agents = ['t0', 't1', 't2', 't3', 't4', 't5'];
    for (const name of agents) await rpc(httpB, 'StartAgent', { name });

    const from = b.lines.length;
    a.child.kill('SIGKILL');
    await within(a.exited, 5000, 'ra killed');
    await b.waitLine(/ nodedown ra@127\.0\.0\.1/, 15_000, from);
    const again = startCli(['node', '--name', 'ra', '--port', '0', '--dist-port', '0'], e);
    const httpA = /http=(http:\/\/\S+)/.exec(await again.waitLine(/ ready ra@/, 20_000))![1]!;
    await b.waitLine(/ nodeup ra@127\.0\.0\.1$/, 15_000, from);
    await eventually('the restarted node counted again', async () => (await count()) === 2, 10_000);
    // Every agent answers through either node, wherever it lives now.
    for (const name of agents) {
      for (const http of [httpA, httpB]) {
        await eventually(`${name} reachable via ${http}`, async () => {
          try {
            await rpc(http, 'SendMessage', { agent: name, action: 'echo', params: { text: 'x' } });
            return true;
          } catch {
            return false;
          }
        }, 15_000);
      }
    }
    for (const p of [again, b]) p.child.kill('SIGTERM');
    for (const p of [again, b]) expect((await within(p.exited, 12_000, 'exit')).code).toBe(0);
  } finally {
    rmSync(nodesDir, { recursive: true, force: true });
  }
}, 120_000);

it('troupe node --tick-ms 250: the mesh ticks every 250 ms and takes a peer silent for 1 s as down (the transport says so when it listens)', async () => {
  const p = startCli(['node', '--name', 'tick@127.0.0.1', '--port', '0', '--dist-port', '0', '--no-local-discovery', '--tick-ms', '250'], { TROUPE_COOKIE: randomBytes(32).toString('hex') });
  await p.waitLine(/ ready tick@127\.0\.0\.1 /, 20_000);
  const listening = p.lines.find((l) => l.includes('transport-ws: listening'));
  expect(listening).toMatch(/"tickMs":250\b/);
  expect(listening).toMatch(/"tickTimeoutMs":1000\b/);
  p.child.kill('SIGTERM');
  expect((await within(p.exited, 12_000, 'exit')).code).toBe(0);
});
