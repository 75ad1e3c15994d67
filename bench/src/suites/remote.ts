/**
 * Suite `remote`: two node processes on loopback. The case's own process is
 * node A (a Node + WsTransport); node B is a child process started with
 * @troupe/harness (built JavaScript) that runs the scenarios in
 * `remote-node.ts`. Each case starts a fresh B. The baseline is bare `ws` +
 * msgpackr between the same two processes, measured in the same run.
 *
 * Flow control: Troupe's outgoing bound fails a connection whose unsent bytes
 * pass `maxBufferedBytes` (no silent unbounded growth), so a sender that
 * outruns the receiver must be paced. One-way senders here keep at most
 * WINDOW messages unacknowledged (the receiver acks every ACK_EVERY), the
 * bare pipe and Troupe alike.
 *
 * Frame authentication (AES-256-GCM, the default) is on in every case; the
 * `oneway` and `call` cases also run a second pair with `frameAuth: 'none'`
 * in the same child, alternating runs, and report the cost of sealing as
 * `remote.oneway.sealedRatio` and `remote.call.p50.sealedDelta`.
 */
import { GenServer, Node, Rpc, type Pid, type ProcessContext } from '@troupe/actor-core';
import { WsTransport, type FrameAuth } from '@troupe/transport-ws';
import { startCluster, now, type Cluster, type NodeHandle } from '@troupe/harness';
import { WebSocket } from 'ws';
import { fileURLToPath } from 'node:url';
import { clockOverheadMs, measureRate, median, percentile, type BenchCase, type CaseContext, type MetricInfo, errorsOnly } from '../harness.js';
import { BARE, barePackr } from './remote-node.js';

const REMOTE_NODE = fileURLToPath(new URL('./remote-node.js', import.meta.url));
const A_NAME = 'bench_a@127.0.0.1';
/** Node A of the second pair, the one without frame authentication. */
const A_UNSEALED_NAME = 'bench_au@127.0.0.1';
const MSG = { n: 1 } as const;
const MORE = { more: true } as const;
/** One shared 100-byte payload: the case measures bytes on the wire, not allocation. */
const PAYLOAD_100B = Buffer.alloc(100, 7);
const ACK_EVERY = 10_000;
const WINDOW = 100_000;
/** Messages a sender puts out per scheduler visit (the node's default throughput). */
const CHUNK = 300;
/** Bare pipe: items per ws message, as Troupe's transport (`maxBatch` 1000). */
const BARE_BATCH = 1000;


interface Pair {
  cluster: Cluster;
  b: NodeHandle;
  node: Node;
  t: WsTransport;
  close(): Promise<void>;
}

/** Node A here, node B in a child process, connected (default transport settings, or frames unauthenticated). */
async function pair(ctx: CaseContext, frameAuth: FrameAuth = 'aes-256-gcm'): Promise<Pair> {
  const cluster = await startCluster({
    nodes: [frameAuth === 'none' ? 'bench_bu' : 'bench_b'],
    connect: false,
    scenarios: [REMOTE_NODE],
    runtime: 'dist',
    logLevel: 'warn',
    nodeArgs: profileArgsForB(frameAuth === 'none' ? 'unsealed.' : ''),
    transport: { frameAuth },
  });
  const b = cluster.node(frameAuth === 'none' ? 'bench_bu' : 'bench_b');
  // Quiet: `frameAuth: 'none'` warns at start, by design.
  const node = new Node({ name: frameAuth === 'none' ? A_UNSEALED_NAME : A_NAME, logger: frameAuth === 'none' ? { ...errorsOnly, warn() {} } : errorsOnly });
  const t = await WsTransport.start(node, { cookie: cluster.cookie, frameAuth });
  await t.connect(b.url);
  return {
    cluster,
    b,
    node,
    t,
    async close() {
      // B's CPU is this case's own work, not noise from other processes.
      if (b.alive && !b.paused) ctx.addCpu(await b.run<number>('cpu'));
      await b.stop(); // graceful, so a CPU profile of B (--prof) gets written
      await cluster.stop();
      await t.close();
      node.shutdown();
    },
  };
}

/** With `--prof` (this process runs under --cpu-prof), profile B too: `B.<case>.cpuprofile` next to A's (`B.unsealed.<case>` for the pair without frame authentication). */
function profileArgsForB(tag = ''): string[] {
  const dir = process.execArgv.find((a) => a.startsWith('--cpu-prof-dir='));
  if (dir === undefined) return [];
  const name = process.execArgv.find((a) => a.startsWith('--cpu-prof-name='))?.slice('--cpu-prof-name='.length) ?? 'remote.cpuprofile';
  return ['--cpu-prof', dir, `--cpu-prof-name=B.${tag}${name}`];
}

function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function latencyFigures(ctx: CaseContext, prefix: string, samples: Float64Array): void {
  samples.sort();
  ctx.report({ name: `${prefix}.p50`, value: percentile(samples, 50) * 1e3, unit: 'µs' });
  ctx.report({ name: `${prefix}.p99`, value: percentile(samples, 99) * 1e3, unit: 'µs' });
}

/** n rounded up to whole ack intervals (the sender waits for the last ack). */
function acked(n: number): number {
  return Math.max(ACK_EVERY, Math.ceil(n / ACK_EVERY) * ACK_EVERY);
}

// ---- bare ws + msgpackr (the baseline) ----------------------------------------------

async function bareClient(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return ws;
}

/** One-way: batches of BARE_BATCH `[kind, to, msg]` tuples, at most WINDOW unacknowledged. */
async function barePipe(ws: WebSocket, n: number): Promise<number> {
  const packr = barePackr();
  const total = acked(n);
  let sent = 0;
  let ackedCount = 0;
  let base = -1;
  const done = deferred();
  const item: [number, number, unknown] = [0, 1, MSG];
  const batch: unknown[] = [];
  const pump = (): void => {
    while (sent < total && sent - ackedCount < WINDOW) {
      const k = Math.min(BARE_BATCH, total - sent, WINDOW - (sent - ackedCount));
      batch.length = k;
      for (let i = 0; i < k; i++) batch[i] = item;
      const body = packr.pack(batch);
      const frame = Buffer.allocUnsafe(body.length + 1);
      frame[0] = BARE.Batch;
      body.copy(frame, 1);
      ws.send(frame);
      sent += k;
    }
  };
  const onMessage = (data: Buffer): void => {
    if (data[0] !== BARE.Ack) return;
    const total0 = data.readUInt32LE(1);
    if (base < 0) base = total0 - ACK_EVERY; // the server's count is cumulative over runs
    ackedCount = total0 - base;
    if (ackedCount >= total) done.resolve();
    else setImmediate(pump);
  };
  ws.on('message', onMessage);
  const t0 = performance.now();
  // The server's counter carries over between runs: learn the offset from the first ack.
  pump();
  await done.promise;
  const secs = (performance.now() - t0) / 1e3;
  ws.off('message', onMessage);
  return secs;
}

/** Request/response with one outstanding: µs per round trip into `samples`. */
async function bareRoundTrips(ws: WebSocket, samples: Float64Array): Promise<void> {
  const packr = barePackr();
  let i = 0;
  let t = 0;
  const done = deferred();
  const send = (): void => {
    const body = packr.pack([0, i, MSG]);
    const frame = Buffer.allocUnsafe(body.length + 1);
    frame[0] = BARE.Request;
    body.copy(frame, 1);
    t = performance.now();
    ws.send(frame);
  };
  const onMessage = (data: Buffer): void => {
    if (data[0] !== BARE.Reply) return;
    packr.unpack(data.subarray(1));
    samples[i++] = performance.now() - t;
    if (i < samples.length) send();
    else done.resolve();
  };
  ws.on('message', onMessage);
  send();
  await done.promise;
  ws.off('message', onMessage);
}

// ---- Troupe one-way -------------------------------------------------------------------

/**
 * Sends `total` messages to a remote sink, CHUNK per scheduler visit (spawned
 * with `throughput: 1`, so its own MOREs do not starve the transport), never
 * more than WINDOW ahead of the sink's acks.
 */
class WindowedSource {
  sent = 0;
  acked = 0;
  moreQueued = false;
  /** The sink; set after spawning (the sink needs this process's pid first). */
  to: Pid | null = null;
  constructor(
    private readonly total: number,
    private readonly msg: unknown,
    private readonly done: () => void,
  ) {}
  handle(m: unknown, ctx: ProcessContext): void {
    if (m === MORE) this.moreQueued = false;
    else {
      this.acked = (m as { ack: number }).ack;
      if (this.acked >= this.total) return this.done();
    }
    const k = Math.min(CHUNK, this.total - this.sent, WINDOW - (this.sent - this.acked));
    const to = this.to!;
    for (let i = 0; i < k; i++) ctx.send(to, this.msg);
    this.sent += k;
    if (!this.moreQueued && this.sent < this.total && this.sent - this.acked < WINDOW) {
      this.moreQueued = true;
      ctx.send(ctx.self, MORE);
    }
  }
}

async function troupeOneway(p: Pair, n: number, msg: unknown): Promise<number> {
  const total = acked(n);
  const done = deferred();
  let tEnd = 0;
  // The source is spawned first so its pid can be the sink's ack target.
  const src = new WindowedSource(total, msg, () => {
    tEnd = performance.now();
    done.resolve();
  });
  const srcPid = p.node.spawn(src, { throughput: 1 });
  const sink = await p.b.run<Pid>('startSink', srcPid, ACK_EVERY);
  src.to = sink;
  const t0 = performance.now();
  p.node.send(srcPid, MORE);
  await done.promise;
  p.node.exit(srcPid, 'kill');
  return (tEnd - t0) / 1e3;
}

// ---- ping-pong, calls -------------------------------------------------------------------

class Pinger {
  peer: Pid | null = null;
  i = 0;
  last = 0;
  constructor(
    private readonly n: number,
    private readonly samples: Float64Array | null,
    private readonly done: () => void,
  ) {}
  handle(m: unknown, ctx: ProcessContext): void {
    if (this.samples !== null) {
      const t = performance.now();
      this.samples[this.i] = t - this.last;
      this.last = t;
    }
    if (++this.i >= this.n) return this.done();
    ctx.send(this.peer!, m);
  }
}

async function pingpong(p: Pair, n: number, samples: Float64Array | null): Promise<number> {
  const done = deferred();
  let tEnd = 0;
  const pinger = new Pinger(n, samples, () => {
    tEnd = performance.now();
    done.resolve();
  });
  const pingPid = p.node.spawn(pinger);
  const pong = await p.b.run<Pid>('startPonger');
  p.node.send(pong, { peer: pingPid });
  pinger.peer = pong;
  const t0 = performance.now();
  pinger.last = t0;
  p.node.send(pong, MSG);
  await done.promise;
  p.node.exit(pingPid, 'kill');
  return (tEnd - t0) / 1e3;
}

/** One process making n sequential requests with `op`, each timed into `samples`. */
async function sequential(p: Pair, n: number, samples: Float64Array, op: (ctx: ProcessContext) => Promise<unknown>): Promise<void> {
  const done = deferred();
  p.node.spawn(async (ctx) => {
    for (let i = 0; i < n; i++) {
      const a = performance.now();
      await op(ctx);
      samples[i] = performance.now() - a;
    }
    done.resolve();
  });
  await done.promise;
}

/** `procs` caller processes share n calls (each sequential): `procs` calls in flight. */
async function callsInFlight(p: Pair, echo: Pid, n: number, procs: number): Promise<number> {
  let left = n;
  let running = procs;
  const done = deferred();
  let tEnd = 0;
  const t0 = performance.now();
  for (let i = 0; i < procs; i++) {
    p.node.spawn(async (ctx) => {
      while (left > 0) {
        left--;
        await GenServer.call(ctx, echo, MSG);
      }
      if (--running === 0) {
        tEnd = performance.now();
        done.resolve();
      }
    });
  }
  await done.promise;
  return (tEnd - t0) / 1e3;
}

// ---- sealed vs unsealed, same run ------------------------------------------------------------

/**
 * The same throughput measured on two pairs (frames sealed, frames not) in
 * one child: a warm-up of each, then `runs` rounds of one run each, the
 * order alternating per round so that a drift of the machine's speed hits
 * both alike. Medians of each.
 */
async function ratePair(
  ctx: CaseContext,
  n: number,
  sealed: (n: number) => Promise<number>,
  unsealed: (n: number) => Promise<number>,
): Promise<{ sealed: number[]; unsealed: number[] }> {
  const warm = Math.max(1, Math.floor(n / 5));
  await sealed(warm);
  await unsealed(warm);
  const out = { sealed: [] as number[], unsealed: [] as number[] };
  for (let i = 0; i < ctx.runs; i++) {
    const order = i % 2 === 0 ? (['sealed', 'unsealed'] as const) : (['unsealed', 'sealed'] as const);
    for (const which of order) out[which].push(n / (await (which === 'sealed' ? sealed : unsealed)(n)));
  }
  return out;
}

/** Sequential calls on two pairs, in alternating slices of `n / SLICES` each: latency samples of each. */
async function callPair(a: { p: Pair; echo: Pid }, b: { p: Pair; echo: Pid }, n: number, clock: number): Promise<[Float64Array, Float64Array]> {
  const SLICES = 8;
  const per = Math.max(1, Math.floor(n / SLICES));
  const sa = new Float64Array(per * SLICES);
  const sb = new Float64Array(per * SLICES);
  for (const side of [a, b]) await sequential(side.p, Math.max(1, n >> 2), new Float64Array(Math.max(1, n >> 2)), (c) => GenServer.call(c, side.echo, MSG)); // warm-up
  for (let i = 0; i < SLICES; i++) {
    const order = i % 2 === 0 ? [0, 1] : [1, 0];
    for (const k of order) {
      const side = k === 0 ? a : b;
      const into = (k === 0 ? sa : sb).subarray(i * per, (i + 1) * per);
      await sequential(side.p, per, into, (c) => GenServer.call(c, side.echo, MSG));
    }
  }
  for (const s of [sa, sb]) for (let i = 0; i < s.length; i++) s[i] = Math.max(0, s[i]! - clock);
  return [sa, sb];
}

// ---- node down --------------------------------------------------------------------------------

/** ms from the signal to A's `nodedown` for B; B is restarted (new creation) and reconnected after each sample. */
async function nodedownAfter(p: Pair, how: 'kill' | 'pause'): Promise<number> {
  const down = deferred<number>();
  const onDown = (e: { node: string }): void => {
    if (e.node === p.b.name) down.resolve(now());
  };
  p.t.on('nodedown', onDown);
  const at = how === 'kill' ? await p.b.kill() : await p.b.pause();
  const seen = await down.promise;
  p.t.off('nodedown', onDown);
  await p.b.restart({ join: false });
  await p.t.connect(p.b.url);
  return seen - at;
}

async function nodedownCase(ctx: CaseContext, name: string, how: 'kill' | 'pause', samples: number): Promise<void> {
  const p = await pair(ctx);
  try {
    const ms: number[] = [];
    for (let i = 0; i < samples; i++) ms.push(await nodedownAfter(p, how));
    ctx.report({ name, value: median(ms), unit: 'ms', runs: ms });
  } finally {
    await p.close();
  }
}

// ---- cases ---------------------------------------------------------------------------------------

export const baseline = 'bare';

export const cases: Record<string, BenchCase> = {
  bare: {
    describe: 'bare ws + msgpackr between the two processes: one-way msgs/s (batches of 1000, 2M messages) and request/response µs (one outstanding, 20k): the baseline',
    reports: ['remote.wsPipe', 'remote.wsRoundTrip.p50', 'remote.wsRoundTrip.p99'],
    async run(ctx) {
      const p = await pair(ctx);
      try {
        const url = await p.b.run<string>('bareServer', ACK_EVERY);
        const ws = await bareClient(url);
        await measureRate(ctx, 'remote.wsPipe', 'msgs/s', ctx.n(2_000_000), (n) => barePipe(ws, n));
        const n = ctx.n(20_000);
        await bareRoundTrips(ws, new Float64Array(Math.max(1, n >> 2))); // warm-up
        const samples = new Float64Array(n);
        await bareRoundTrips(ws, samples);
        latencyFigures(ctx, 'remote.wsRoundTrip', samples);
        ws.terminate();
      } finally {
        await p.close();
      }
    },
  },
  oneway: {
    describe:
      'one-way send of small messages from a process on A to a process on B, 2M (windowed: ≤ 100k unacknowledged); the same on a second pair with frameAuth none, alternating runs: the cost of sealing',
    reports: ['remote.oneway', 'remote.oneway.unsealed', 'remote.oneway.sealedRatio'],
    async run(ctx) {
      const sealed = await pair(ctx);
      const unsealed = await pair(ctx, 'none');
      try {
        const r = await ratePair(ctx, ctx.n(2_000_000), (n) => troupeOneway(sealed, n, MSG), (n) => troupeOneway(unsealed, n, MSG));
        const s = median(r.sealed);
        const u = median(r.unsealed);
        ctx.report({ name: 'remote.oneway', value: s, unit: 'msgs/s', runs: r.sealed });
        ctx.report({ name: 'remote.oneway.unsealed', value: u, unit: 'msgs/s', runs: r.unsealed });
        // The median of each round's ratio: the two runs of a round are adjacent in time, so a burst
        // of load from other processes hits both more alike than it hits the two medians.
        const ratios = r.sealed.map((x, i) => x / r.unsealed[i]!);
        ctx.report({ name: 'remote.oneway.sealedRatio', value: median(ratios), unit: '×', runs: ratios });
      } finally {
        await sealed.close();
        await unsealed.close();
      }
    },
  },
  oneway100B: {
    describe: 'one-way send of 100-byte binary payloads, 1M (windowed)',
    reports: ['remote.oneway100B'],
    async run(ctx) {
      const p = await pair(ctx);
      try {
        await measureRate(ctx, 'remote.oneway100B', 'msgs/s', ctx.n(1_000_000), (n) => troupeOneway(p, n, PAYLOAD_100B));
      } finally {
        await p.close();
      }
    },
  },
  pingpong: {
    describe: 'ping-pong between a process on A and one on B: round trips/s (20k), and µs per round trip',
    reports: ['remote.pingpong', 'remote.pingpong.p50', 'remote.pingpong.p99'],
    async run(ctx) {
      const p = await pair(ctx);
      try {
        const n = ctx.n(20_000);
        await measureRate(ctx, 'remote.pingpong', 'rt/s', n, (k) => pingpong(p, k, null));
        const samples = new Float64Array(n);
        await pingpong(p, n, samples);
        latencyFigures(ctx, 'remote.pingpong', samples.subarray(1)); // the first includes the set-up send
      } finally {
        await p.close();
      }
    },
  },
  call: {
    describe:
      'sequential GenServer.call from a process on A to an echo server on B, 20k: µs per call; the same on a second pair with frameAuth none, alternating slices: the cost of sealing',
    reports: ['remote.call.p50', 'remote.call.p99', 'remote.call.unsealed.p50', 'remote.call.unsealed.p99', 'remote.call.p50.sealedDelta'],
    async run(ctx) {
      const sealed = await pair(ctx);
      const unsealed = await pair(ctx, 'none');
      try {
        const a = { p: sealed, echo: await sealed.b.run<Pid>('startEcho') };
        const b = { p: unsealed, echo: await unsealed.b.run<Pid>('startEcho') };
        const [ss, su] = await callPair(a, b, ctx.n(20_000), clockOverheadMs());
        latencyFigures(ctx, 'remote.call', ss);
        latencyFigures(ctx, 'remote.call.unsealed', su);
        ctx.report({ name: 'remote.call.p50.sealedDelta', value: (percentile(ss, 50) - percentile(su, 50)) * 1e3, unit: 'µs' });
      } finally {
        await sealed.close();
        await unsealed.close();
      }
    },
  },
  rpc: {
    describe: 'sequential Rpc.call(B, "echo", [x]) from a process on A, 20k: µs per call',
    reports: ['remote.rpc.p50', 'remote.rpc.p99'],
    async run(ctx) {
      const p = await pair(ctx);
      try {
        await p.b.run('exposeRpc');
        const peer = p.b.name;
        const n = ctx.n(20_000);
        const clock = clockOverheadMs();
        await sequential(p, Math.max(1, n >> 2), new Float64Array(Math.max(1, n >> 2)), (c) => Rpc.call(c, peer, 'echo', [1])); // warm-up
        const samples = new Float64Array(n);
        await sequential(p, n, samples, (c) => Rpc.call(c, peer, 'echo', [1]));
        for (let i = 0; i < n; i++) samples[i] = Math.max(0, samples[i]! - clock);
        latencyFigures(ctx, 'remote.rpc', samples);
      } finally {
        await p.close();
      }
    },
  },
  callsInFlight: {
    describe: '1,000 processes on A each calling the echo server on B in a loop (1,000 calls in flight), 200k calls: calls/s',
    reports: ['remote.callsInFlight'],
    async run(ctx) {
      const p = await pair(ctx);
      try {
        const echo = await p.b.run<Pid>('startEcho');
        await measureRate(ctx, 'remote.callsInFlight', 'calls/s', ctx.n(200_000), (n) => callsInFlight(p, echo, n, 1000));
      } finally {
        await p.close();
      }
    },
  },
  nodedownSigkill: {
    describe: 'ms from SIGKILL of B to nodedown on A (default settings); median of 7 (quick: 3)',
    reports: ['remote.nodedown.sigkill'],
    run: (ctx) => nodedownCase(ctx, 'remote.nodedown.sigkill', 'kill', ctx.quick ? 3 : 7),
  },
  nodedownSigstop: {
    describe: 'ms from SIGSTOP of B to nodedown on A (default settings: 1 s ticks, 4 s timeout); median of 3 (quick: 1)',
    reports: ['remote.nodedown.sigstop'],
    run: (ctx) => nodedownCase(ctx, 'remote.nodedown.sigstop', 'pause', ctx.quick ? 1 : 3),
  },
};

export const metrics: Record<string, MetricInfo> = {
  'remote.wsPipe': { unit: 'msgs/s' },
  'remote.wsRoundTrip.p50': { unit: 'µs' },
  'remote.wsRoundTrip.p99': { unit: 'µs', ratioTo: 'remote.wsRoundTrip.p50' },
  'remote.oneway': { unit: 'msgs/s', target: { op: '>=', value: 2e6 }, erlang: 0.27e6, ratioTo: 'remote.wsPipe' },
  'remote.oneway.unsealed': { unit: 'msgs/s', ratioTo: 'remote.wsPipe' },
  /** Frames sealed (AES-256-GCM) ÷ frames not, same child, alternating runs (issue 11: ≥ 0.90). */
  'remote.oneway.sealedRatio': { unit: '×', target: { op: '>=', value: 0.9 } },
  'remote.oneway100B': { unit: 'msgs/s', ratioTo: 'remote.wsPipe' },
  'remote.pingpong': { unit: 'rt/s' },
  'remote.pingpong.p50': { unit: 'µs', erlang: 71, ratioTo: 'remote.wsRoundTrip.p50' },
  'remote.pingpong.p99': { unit: 'µs', ratioTo: 'remote.wsRoundTrip.p50' },
  'remote.call.p50': { unit: 'µs', erlang: 73, ratioTo: 'remote.wsRoundTrip.p50' },
  'remote.call.p99': { unit: 'µs', ratioTo: 'remote.wsRoundTrip.p50' },
  'remote.call.unsealed.p50': { unit: 'µs', ratioTo: 'remote.wsRoundTrip.p50' },
  'remote.call.unsealed.p99': { unit: 'µs', ratioTo: 'remote.wsRoundTrip.p50' },
  /** Call p50 sealed − unsealed, same child, alternating slices (issue 11: ≤ +5 µs). */
  'remote.call.p50.sealedDelta': { unit: 'µs', ratio: false, target: { op: '<=', value: 5 } },
  'remote.rpc.p50': { unit: 'µs', ratioTo: 'remote.wsRoundTrip.p50' },
  'remote.rpc.p99': { unit: 'µs', ratioTo: 'remote.wsRoundTrip.p50' },
  'remote.callsInFlight': { unit: 'calls/s', target: { op: '>=', value: 200e3 } },
  'remote.nodedown.sigkill': { unit: 'ms', ratio: false, target: { op: '<=', value: 20 }, erlang: 3.6 },
  'remote.nodedown.sigstop': { unit: 'ms', ratio: false, target: { op: '<=', value: 4800 }, erlang: 4600 },
};
