import { randomBytes } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import { killAll, startCli, startCluster, within } from './cli-process.js';

afterEach(() => killAll());

interface ClusterSummary {
  observer: string;
  nodes: { name: string; connected: boolean; snapshot: { processes: number } | null }[];
}

const observerUrl = /^observer: (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)$/;

async function clusterOf(url: string, wantNodes: string[]): Promise<ClusterSummary> {
  const u = new URL(url);
  const token = u.searchParams.get('token')!;
  const deadline = Date.now() + 15_000;
  for (;;) {
    const s = (await (await fetch(`${u.origin}/api/cluster`, { headers: { authorization: `Bearer ${token}` } })).json()) as ClusterSummary;
    if (wantNodes.every((n) => s.nodes.some((v) => v.name === n && v.connected && v.snapshot !== null))) return s;
    if (Date.now() > deadline) throw new Error(`observer did not see ${wantNodes.join(', ')}: ${JSON.stringify(s).slice(0, 400)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

it('troupe cluster prints an observer URL that shows every node; the token is required; each node serves /metrics', async () => {
  const { p, base } = await startCluster(2);
  const line = await p.waitLine(observerUrl, 40_000);
  const url = observerUrl.exec(line)![1]!;
  const s = await clusterOf(url, ['n1@127.0.0.1', 'n2@127.0.0.1']);
  expect(s.nodes.map((n) => n.name)).toEqual(['n1@127.0.0.1', 'n2@127.0.0.1']);
  expect((await fetch(`${new URL(url).origin}/api/cluster`)).status).toBe(401);
  expect((await fetch(url.replace(/token=[\w-]+/, 'token=nope'))).status).toBe(401);
  const metrics = await (await fetch(`http://127.0.0.1:${base}/metrics`)).text();
  expect(metrics).toMatch(/^# HELP troupe_processes /m);
  expect(metrics).toMatch(/^troupe_processes \d+$/m);
  expect(metrics).toMatch(/^troupe_peer_bytes_sent_total\{peer="n2@127\.0\.0\.1"\} [1-9]\d*$/m);
  expect(metrics).toMatch(/^troupe_peer_frames_received_total\{peer="observer@127\.0\.0\.1"\} [1-9]\d*$/m);
  expect(metrics).toMatch(/^troupe_connected_nodes\{kind="hidden"\} 1$/m);
  expect(metrics).toMatch(/^troupe_registry_names \d+$/m);
  p.child.kill('SIGINT');
  expect((await within(p.exited, 20_000, 'cluster exit')).code).toBe(0);
});

it('troupe observe --join joins a running node as a hidden node (not a member) and serves its page', async () => {
  const env = { TROUPE_COOKIE: randomBytes(32).toString('hex') };
  const n = startCli(['node', '--name', 'solo', '--port', '0', '--dist-port', '0'], env);
  const ready = await n.waitLine(/^\S+ ready /, 30_000);
  const mesh = / mesh=(\S+)/.exec(ready)![1]!;
  const http = / http=(\S+)/.exec(ready)![1]!;
  const o = startCli(['observe', '--join', mesh, '--name', 'watcher@127.0.0.1'], env);
  const url = observerUrl.exec(await o.waitLine(observerUrl, 30_000))![1]!;
  const s = await clusterOf(url, ['solo@127.0.0.1']);
  expect(s.observer).toBe('watcher@127.0.0.1');
  await n.waitLine(/nodeup watcher@127\.0\.0\.1 \(hidden\)/, 10_000);
  const health = (await (await fetch(`${http}/health`)).json()) as { nodes: string[] };
  expect(health.nodes).toEqual(['solo@127.0.0.1']);
  o.child.kill('SIGINT');
  expect((await within(o.exited, 10_000, 'observe exit')).code).toBe(0);
  n.child.kill('SIGTERM');
  await within(n.exited, 15_000, 'node exit');
});

it('troupe observe without --join: a usage error, exit 2', async () => {
  const o = startCli(['observe']);
  const { code } = await within(o.exited, 20_000, 'exit');
  expect(code).toBe(2);
  expect(o.stderr.join('\n')).toMatch(/--join URL is required[\s\S]*usage: troupe observe/);
});
