/**
 * Suite `gateway`: JSON-RPC over HTTP keep-alive against real `troupe node`
 * processes on 127.0.0.1 (gateway on, logging at info as `troupe cluster`
 * runs them). The load comes from the case's own process: N concurrent
 * clients, each one keep-alive connection sending its next request when the
 * previous answer arrived (node:http for the latency cases, autocannon for
 * the rate). The baseline is `/health`
 * on the same gateway (HTTP + JSON without the cluster), so the ratio says
 * what the agent call adds.
 */
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import autocannon from 'autocannon';
import { exited } from '@troupe/child-process';
import { percentile, type BenchCase, type CaseContext, type MetricInfo } from '../harness.js';
import { TroupeCluster } from './troupe-nodes.js';

/** One keep-alive connection per client. */
class Client {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  private id = 0;
  constructor(private readonly base: string) {}

  /** GET or JSON-RPC POST; resolves with the parsed body, rejects on an HTTP or JSON-RPC error. */
  send(path: string, body: object | null): Promise<unknown> {
    const url = new URL(path, this.base);
    const data = body === null ? null : JSON.stringify({ jsonrpc: '2.0', id: ++this.id, ...body });
    return new Promise((ok, fail) => {
      const req = request(
        url,
        {
          agent: this.agent,
          method: data === null ? 'GET' : 'POST',
          headers: data === null ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => {
            const parsed = JSON.parse(text) as { error?: { message: string } };
            if (res.statusCode !== 200 || parsed.error !== undefined) fail(new Error(`${path}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
            else ok(parsed);
          });
        },
      );
      req.on('error', fail);
      req.end(data ?? undefined);
    });
  }

  rpc(method: string, params: object): Promise<unknown> {
    return this.send('/a2a', { method, params });
  }

  close(): void {
    this.agent.destroy();
  }
}

const sendMessage = (agent: string): { method: string; params: object } => ({ method: 'SendMessage', params: { agent, action: 'echo', params: { text: 'hello' } } });

/** Agents, one per client (a queue holds 1000 tasks: a client sends fewer to its own agent). */
async function startAgents(c: Client, prefix: string, k: number): Promise<string[]> {
  const names = Array.from({ length: k }, (_, i) => `${prefix}${i}`);
  for (const n of names) await c.rpc('StartAgent', { name: n });
  return names;
}

/** Sequential requests from one client: per-request latency, sorted (ms). */
async function latencies(k: number, next: (i: number) => Promise<unknown>): Promise<Float64Array> {
  const out = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    const t0 = performance.now();
    await next(i);
    out[i] = performance.now() - t0;
  }
  return out.sort();
}

/** With TROUPE_BENCH_NODE_PROF=1, node flags that make each node process write a CPU profile into bench-report/prof/<dir>. */
function profFlags(dir: string): string[] {
  return process.env['TROUPE_BENCH_NODE_PROF'] === '1' ? ['--cpu-prof', `--cpu-prof-dir=${process.cwd()}/bench-report/prof/${dir}`] : [];
}

/** `k` agents the supervisor placed on other nodes than `gateway` (names it put on `gateway` are started too, and skipped). */
async function startRemoteAgents(c: Client, prefix: string, k: number, gateway: string): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; out.length < k; i++) {
    const r = (await c.rpc('StartAgent', { name: `${prefix}${i}` })) as { result: { node: string } };
    if (r.result.node !== gateway) out.push(`${prefix}${i}`);
  }
  return out;
}

interface P50 {
  send: number;
  health: number;
  cpuPerReq: number;
  /** The same with every agent on another node than the gateway's: each request crosses the mesh. */
  sendRemote: number;
  cpuPerReqRemote: number;
  /** CPU the whole cluster spends with no request (ticks, anti-entropy), % of one core. */
  idleCpu: number;
}

/** What the idle cluster spends over a quiet window, % of one core (CPU is read in 10 ms ticks: the window is 2 s). */
async function measureIdle(cl: TroupeCluster): Promise<number> {
  const t0 = performance.now();
  const cpu0 = cl.cpuMs();
  await new Promise((r) => setTimeout(r, 2000));
  return ((cl.cpuMs() - cpu0) * 100) / (performance.now() - t0);
}

/** SendMessage requests per node before the latency cases measure (the agents' queues hold 1000 tasks: 80 agents take 16 nodes' warm-up). */
const WARM_UP_PER_NODE = 2000;

/**
 * p50 of SendMessage through node 1's gateway, 1 client; agents placed across the cluster by the
 * supervisor (on node 1 itself for about 1/N of them), and agents only on the other nodes.
 * `prof`: this cluster is the one TROUPE_BENCH_NODE_PROF profiles.
 */
async function sendP50(ctx: CaseContext, nodes: number, prof: boolean): Promise<P50> {
  const cl = await TroupeCluster.start(nodes, prof ? profFlags(`gateway-${nodes}`) : []);
  try {
    await cl.awaitMesh();
    const c = new Client(cl.nodes[0]!.http);
    const k = ctx.n(2000, 5);
    // Many agents, few requests each: the share on the gateway's own node (local calls, no frames)
    // then is near 1/N. With 4 names it was the hash's luck: 3 of 4 at 3 nodes, so that p50 was a local call's.
    const per = 50;
    const agents = await startAgents(c, 'a', Math.ceil(k / per));
    const remote = await startRemoteAgents(c, 'r', Math.ceil(k / per), cl.nodes[0]!.name);
    // Warm-up through the measured agents themselves, so every node that serves the measurement ran
    // its code before (with agents of their own, most nodes of a larger cluster were measured cold),
    // and as often at every size: each node serves ~1/N of the requests, so N times as many. A fixed
    // 800 left a 16-node cluster mid warm-up: under this load its p50 fell from ~1.6 ms to ~0.75 ms
    // over its first 10-30 s (3 nodes: ~1.2 to ~0.5 ms in 6-8 s).
    const all = [...agents, ...remote];
    await latencies(ctx.n(WARM_UP_PER_NODE * nodes, 50), (i) => c.rpc('SendMessage', sendMessage(all[i % all.length]!).params));
    const health = await latencies(k, () => c.send('/health', null));
    const idle = await measureIdle(cl);
    // CPU the whole cluster spent per request (idle cost over the window included): where the time goes.
    // The two placements take turns in halves (any, remote, any, remote), so the box's drift and what
    // is left of the warm-up fall on both alike.
    const half = Math.ceil(k / 2);
    const phase = { any: { to: agents, ms: [] as number[], cpu: 0 }, remote: { to: remote, ms: [] as number[], cpu: 0 } };
    for (const p of [phase.any, phase.remote, phase.any, phase.remote]) {
      const cpu0 = cl.cpuMs();
      const l = await latencies(half, (i) => c.rpc('SendMessage', sendMessage(p.to[(i + p.ms.length) % p.to.length]!).params));
      p.cpu += cl.cpuMs() - cpu0;
      p.ms.push(...l);
    }
    const result = (p: { ms: number[]; cpu: number }): { p50: number; cpuPerReq: number } => ({
      p50: percentile(Float64Array.from(p.ms).sort(), 50),
      cpuPerReq: p.cpu / p.ms.length,
    });
    const any = result(phase.any);
    const rem = result(phase.remote);
    c.close();
    return { send: any.p50, health: percentile(health, 50), cpuPerReq: any.cpuPerReq, sendRemote: rem.p50, cpuPerReqRemote: rem.cpuPerReq, idleCpu: idle };
  } finally {
    await cl.stop();
  }
}

/** Connections of the rate case, spread over the gateways (22, 21, 21), each with its own agent. */
const CONNECTIONS = 64;

interface Load {
  requests: number;
  rate: number;
  clusterCpuMs: number;
  clientCpuMs: number;
}

/**
 * `per` POSTs on each of `bodies.length` keep-alive connections, connection
 * i sending `bodies[i]` to `urls[i mod urls.length]` as soon as its answer
 * came (autocannon: its own HTTP/1.1 client on raw sockets, about half the
 * CPU per request of node:http's, which shares the two cores with the
 * servers). Any request that did not get HTTP 200 with a JSON-RPC result
 * (an error answer, a timeout, a dropped connection) fails the case.
 * The time is taken to the last answer: autocannon reports the end of a run
 * at its next sampling tick (once a second), which rounded every run's
 * duration up to near a whole second.
 */
async function fire(urls: readonly string[], bodies: readonly string[], per: number): Promise<{ requests: number; wallMs: number }> {
  let failed = 0;
  let firstFailure = '';
  const t0 = performance.now();
  let lastAnswer = t0;
  const runs = urls.map((url, g) => {
    const mine = bodies.filter((_, i) => i % urls.length === g);
    let next = 0;
    return new Promise<number>((ok, fail) => {
      autocannon(
        {
          url,
          connections: mine.length,
          amount: mine.length * per,
          timeout: 30,
          setupClient: (client) => client.setBody(mine[next++ % mine.length]!),
          requests: [
            {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              onResponse: (status, body) => {
                lastAnswer = performance.now();
                if (status === 200 && !body.includes('"error"')) return;
                if (failed++ === 0) firstFailure = `HTTP ${status}: ${body.slice(0, 300)}`;
              },
            },
          ],
        },
        (err, r) => {
          if (err !== null && err !== undefined) return fail(err);
          if (r.errors > 0 && failed++ === 0) firstFailure = `${r.errors} timeouts or connection errors`;
          ok(r.requests.total + r.errors);
        },
      );
    });
  });
  const requests = (await Promise.all(runs)).reduce((a, b) => a + b, 0);
  const wallMs = lastAnswer - t0;
  if (failed > 0) throw new Error(`${failed} of ${requests} requests to ${urls.join(', ')} failed; the first: ${firstFailure}`);
  return { requests, wallMs };
}

/** SendMessage load (`fire`): connection i to agent i through gateway i mod 3, with the CPU it took. */
async function load(cl: TroupeCluster, agents: string[], per: number): Promise<Load> {
  const cpu0 = cl.cpuMs();
  const own0 = process.cpuUsage();
  const urls = cl.nodes.map((n) => new URL('/a2a', n.http).toString());
  const { requests, wallMs } = await fire(urls, agents.map((a) => JSON.stringify({ jsonrpc: '2.0', id: 1, ...sendMessage(a) })), per);
  const own = process.cpuUsage(own0);
  return { requests, rate: (requests * 1000) / wallMs, clusterCpuMs: cl.cpuMs() - cpu0, clientCpuMs: (own.user + own.system) / 1000 };
}

/** A bare HTTP server: every request answered with a constant JSON-RPC result; prints its port. */
const PLAIN_SERVER = `const b = '{"jsonrpc":"2.0","id":1,"result":{}}';
require('node:http').createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': b.length }); res.end(b); }); })
  .listen(0, '127.0.0.1', function () { console.log(this.address().port); });`;

/** Requests/s of three bare node:http processes under the rate case's load (`fire`, CONNECTIONS connections, `per` each; best of two runs after a warm-up). */
async function plainHttpRate(per: number): Promise<number> {
  const servers = [0, 1, 2].map(() => spawn(process.execPath, ['-e', PLAIN_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] }));
  try {
    const urls = await Promise.all(
      servers.map(
        (p) =>
          new Promise<string>((ok, fail) => {
            p.stdout!.once('data', (d: Buffer) => ok(`http://127.0.0.1:${d.toString().trim()}/a2a`));
            p.once('exit', (code) => fail(new Error(`plain HTTP server exited (${code}) before listening`)));
          }),
      ),
    );
    const bodies = Array.from({ length: CONNECTIONS }, () => JSON.stringify({ jsonrpc: '2.0', id: 1, ...sendMessage('a0') }));
    const rate = async (k: number): Promise<number> => {
      const r = await fire(urls, bodies, k);
      return (r.requests * 1000) / r.wallMs;
    };
    await rate(Math.ceil(per / 4));
    return Math.max(await rate(per), await rate(per));
  } finally {
    await Promise.all(servers.map((p) => (p.kill(), exited(p))));
  }
}

export const baseline = 'p50';

export const cases: Record<string, BenchCase> = {
  p50: {
    describe: '3 troupe node processes; one keep-alive client on node 1: p50 of GET /health (the baseline) and of SendMessage (echo task to an agent the supervisor placed on any node)',
    reports: ['gateway.health.p50', 'gateway.sendMessage.p50', 'gateway.sendMessage.cpuPerReq'],
    async run(ctx) {
      const r = await sendP50(ctx, 3, true);
      ctx.report({ name: 'gateway.health.p50', value: r.health, unit: 'ms' });
      ctx.report({ name: 'gateway.sendMessage.p50', value: r.send, unit: 'ms' });
      ctx.report({ name: 'gateway.sendMessage.cpuPerReq', value: r.cpuPerReq, unit: 'ms' });
    },
  },

  p50at16: {
    describe:
      'the same at 16 node processes: p50 of SendMessage, and its ratio to the 3-node figure (flat in cluster size: ~1); also both with every agent on another node than the gateway (agents anywhere: about 1/N of them on the gateway\'s node, a local call)',
    reports: [
      'gateway.sendMessage.p50at16',
      'gateway.sendMessage.cpuPerReq16',
      'gateway.sendMessage.p50ratio16to3',
      'gateway.sendMessage.p50remote3',
      'gateway.sendMessage.cpuPerReqRemote3',
      'gateway.sendMessage.cpuPerReqRemote16',
      'gateway.sendMessage.p50remoteRatio16to3',
      'gateway.cluster.idleCpu3',
      'gateway.cluster.idleCpu16',
    ],
    async run(ctx) {
      const r3 = await sendP50(ctx, 3, false);
      const r16 = await sendP50(ctx, 16, true);
      ctx.report({ name: 'gateway.sendMessage.p50at16', value: r16.send, unit: 'ms' });
      ctx.report({ name: 'gateway.sendMessage.cpuPerReq16', value: r16.cpuPerReq, unit: 'ms' });
      // Both taken in this case, minutes apart at most, so the box's drift cancels.
      ctx.report({ name: 'gateway.sendMessage.p50ratio16to3', value: r16.send / r3.send, unit: '×' });
      ctx.report({ name: 'gateway.sendMessage.p50remote3', value: r3.sendRemote, unit: 'ms' });
      ctx.report({ name: 'gateway.sendMessage.cpuPerReqRemote3', value: r3.cpuPerReqRemote, unit: 'ms' });
      ctx.report({ name: 'gateway.sendMessage.cpuPerReqRemote16', value: r16.cpuPerReqRemote, unit: 'ms' });
      ctx.report({ name: 'gateway.sendMessage.p50remoteRatio16to3', value: r16.sendRemote / r3.sendRemote, unit: '×' });
      // Part of every cpuPerReq figure: the idle cluster's CPU over the request's time (ticks to every peer: it grows with N²).
      ctx.report({ name: 'gateway.cluster.idleCpu3', value: r3.idleCpu, unit: '%' });
      ctx.report({ name: 'gateway.cluster.idleCpu16', value: r16.idleCpu, unit: '%' });
    },
  },

  rate: {
    describe:
      '3 troupe node processes; 64 keep-alive connections spread over the three gateways (autocannon, in this process), each sending SendMessage to its own agent as soon as the answer came: requests/s; and the same load on three bare node:http processes answering a constant body (the box\'s own limit)',
    reports: ['gateway.sendMessage.rate', 'gateway.sendMessage.rateCpuPerReq', 'gateway.sendMessage.rateClientCpuPerReq', 'gateway.plainHttp.rate'],
    async run(ctx) {
      const cl = await TroupeCluster.start(3, profFlags('gateway-rate'));
      try {
        await cl.awaitMesh();
        const c = new Client(cl.nodes[0]!.http);
        const agents = await startAgents(c, 'r', CONNECTIONS);
        c.close();
        const per = ctx.n(400, 8); // < 1000, the queue limit of one agent, over warm-up + runs
        // What the box gives at all: three bare node:http servers under the same load, while the cluster idles.
        ctx.report({ name: 'gateway.plainHttp.rate', value: await plainHttpRate(per), unit: 'rt/s' });
        await load(cl, agents, Math.ceil(per / 4));
        const runs: Load[] = [];
        for (let r = 0; r < 2; r++) runs.push(await load(cl, agents, per));
        const req = runs.reduce((n, x) => n + x.requests, 0);
        ctx.report({ name: 'gateway.sendMessage.rate', value: Math.max(...runs.map((x) => x.rate)), unit: 'rt/s', runs: runs.map((x) => x.rate) });
        // The cluster's CPU per request under this load: what the rate is made of, far less noisy than the rate itself on a shared box.
        ctx.report({ name: 'gateway.sendMessage.rateCpuPerReq', value: runs.reduce((n, x) => n + x.clusterCpuMs, 0) / req, unit: 'ms' });
        // The load generator's, on the same two cores: what the cluster could not use.
        ctx.report({ name: 'gateway.sendMessage.rateClientCpuPerReq', value: runs.reduce((n, x) => n + x.clientCpuMs, 0) / req, unit: 'ms' });
      } finally {
        await cl.stop();
      }
    },
  },
};

export const metrics: Record<string, MetricInfo> = {
  'gateway.health.p50': { unit: 'ms', ratio: false },
  'gateway.sendMessage.p50': { unit: 'ms', ratioTo: 'gateway.health.p50', target: { op: '<=', value: 1 } },
  'gateway.sendMessage.cpuPerReq': { unit: 'ms', ratio: false },
  'gateway.sendMessage.p50at16': { unit: 'ms', ratio: false },
  'gateway.sendMessage.cpuPerReq16': { unit: 'ms', ratio: false },
  'gateway.sendMessage.p50ratio16to3': { unit: '×', target: { op: '<=', value: 1.5 } },
  'gateway.sendMessage.p50remote3': { unit: 'ms', ratio: false },
  'gateway.sendMessage.cpuPerReqRemote3': { unit: 'ms', ratio: false },
  'gateway.sendMessage.cpuPerReqRemote16': { unit: 'ms', ratio: false },
  'gateway.sendMessage.p50remoteRatio16to3': { unit: '×', target: { op: '<=', value: 1.5 } },
  'gateway.cluster.idleCpu3': { unit: '%', ratio: false },
  'gateway.cluster.idleCpu16': { unit: '%', ratio: false },
  'gateway.sendMessage.rate': { unit: 'rt/s', ratioTo: 'gateway.plainHttp.rate', target: { op: '>=', value: 10_000 } },
  'gateway.plainHttp.rate': { unit: 'rt/s', ratio: false },
  'gateway.sendMessage.rateCpuPerReq': { unit: 'ms', ratio: false },
  'gateway.sendMessage.rateClientCpuPerReq': { unit: 'ms', ratio: false },
};
