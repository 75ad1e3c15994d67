/**
 * Suite `local`: one node, one OS process. Message throughput, call latency,
 * spawn cost and memory, supervisor restart latency, event-loop lag under a
 * flood. Every case runs in its own child process (see runner.ts).
 */
import { GenServer, Node, silentLogger, type Pid, type ProcessContext } from '@troupe/actor-core';
import {
  clockOverheadMs,
  gcNow,
  measureRate,
  median,
  percentile,
  turn,
  type BenchCase,
  type CaseContext,
  type MetricInfo,
} from '../harness.js';
import { callServer, restartCase } from './local-otp.js';

/** One shared message object: the cases measure dispatch, not allocation. */
const MSG = { n: 1 } as const;
type Msg = typeof MSG;
const MORE = { more: true } as const;

function newNode(): Node {
  // Silent: crash reports (restart case) must not turn the run into a logging benchmark.
  return new Node({ logger: silentLogger });
}

// ---- baseline: a bare ring-buffer dispatch loop ----------------------------

/** The same power-of-two ring as the runtime's mailbox, minus everything else. */
class BareRing {
  private buf: (Msg | undefined)[] = new Array(1024);
  private head = 0;
  private mask = 1023;
  length = 0;
  push(m: Msg): void {
    if (this.length > this.mask) throw new Error('bare ring full');
    this.buf[(this.head + this.length) & this.mask] = m;
    this.length++;
  }
  shift(): Msg {
    const i = this.head;
    const m = this.buf[i]!;
    this.buf[i] = undefined;
    this.head = (i + 1) & this.mask;
    this.length--;
    return m;
  }
}

class BareCounter {
  count = 0;
  handle(m: Msg): void {
    this.count += m.n;
  }
}

/**
 * Producer pushes CHUNK messages, the consumer drains them through a method
 * call, repeat: the shape of `local.oneway` with no scheduler, mailbox
 * wake-up, process state or send routing. Everything else is a ratio to it.
 */
function bareDispatch(n: number): number {
  const ring = new BareRing();
  const beh = new BareCounter();
  const t0 = performance.now();
  let sent = 0;
  while (sent < n) {
    const k = Math.min(CHUNK, n - sent);
    for (let i = 0; i < k; i++) ring.push(MSG);
    sent += k;
    while (ring.length > 0) beh.handle(ring.shift());
  }
  const secs = (performance.now() - t0) / 1e3;
  if (beh.count !== n) throw new Error('bare dispatch lost messages');
  return secs;
}

/** Messages a sender puts out per scheduler visit: the node's default throughput, so the receiver keeps up. */
const CHUNK = 300;
// ^ sender and receiver each move 300 per visit, so the mailbox stays under 600.

// ---- one-way -----------------------------------------------------------------

/** Receiver: counts down; one class for all receivers keeps `handle` monomorphic. */
class Sink {
  constructor(
    public left: number,
    private readonly done: () => void,
  ) {}
  handle(_m: Msg): void {
    if (--this.left === 0) this.done();
  }
}

/**
 * Sender: on each `MORE` sends a chunk and, if any are left, queues itself
 * another `MORE`. Spawned with `throughput: 1`: otherwise it would handle its
 * own `MORE`s up to 300 times per visit and bury the receiver (that is the
 * flood case, not steady one-way throughput).
 */
class Source {
  constructor(
    public to: Pid | null,
    public left: number,
    private readonly chunk: number,
  ) {}
  handle(_m: unknown, ctx: ProcessContext): void {
    const to = this.to!;
    const k = Math.min(this.chunk, this.left);
    for (let i = 0; i < k; i++) ctx.send(to, MSG);
    this.left -= k;
    if (this.left > 0) ctx.send(ctx.self, MORE);
  }
}

/** Spawns `pairs` sender→receiver pairs sharing n messages; resolves with the seconds from first send to last receive. */
async function oneway(n: number, pairs: number, chunk = CHUNK): Promise<number> {
  const node = newNode();
  const per = Math.floor(n / pairs);
  let pending = pairs;
  let tEnd = 0;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const onDone = (): void => {
    if (--pending === 0) {
      tEnd = performance.now();
      finish();
    }
  };
  const sources: Pid[] = [];
  for (let i = 0; i < pairs; i++) {
    const sink = node.spawn(new Sink(per, onDone));
    sources.push(node.spawn(new Source(sink, per, chunk), { throughput: 1 }));
  }
  await turn(); // every process past Starting, so the timed part is only messaging
  const t0 = performance.now();
  for (const s of sources) node.send(s, MORE);
  await finished;
  node.shutdown();
  return (tEnd - t0) / 1e3;
}

// ---- ping-pong -------------------------------------------------------------------

class Pinger {
  peer: Pid | null = null;
  constructor(
    public left: number,
    private readonly done: () => void,
  ) {}
  handle(_m: Msg, ctx: ProcessContext): void {
    if (--this.left === 0) this.done();
    else ctx.send(this.peer!, MSG);
  }
}

class Ponger {
  peer: Pid | null = null;
  handle(_m: Msg, ctx: ProcessContext): void {
    ctx.send(this.peer!, MSG);
  }
}

/** Behaviour style: each message wakes the other process through the run queue. */
async function pingpong(n: number): Promise<number> {
  const node = newNode();
  let tEnd = 0;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const ping = new Pinger(n, () => {
    tEnd = performance.now();
    finish();
  });
  const pong = new Ponger();
  const pingPid = node.spawn(ping);
  const pongPid = node.spawn(pong);
  ping.peer = pongPid;
  pong.peer = pingPid;
  await turn();
  const t0 = performance.now();
  node.send(pongPid, MSG); // pong answers ping: round trip 1 of n
  await finished;
  node.shutdown();
  return (tEnd - t0) / 1e3;
}

/** A message the selective receive skips, and one it takes (`i` gives the order). */
type Backlogged = { other: number } | { match: number };
const isMatch = (m: unknown): boolean => (m as { match?: number }).match !== undefined;

/**
 * Selective receive over a long mailbox: 100,000 unrelated messages queued,
 * then 100 that match; the process takes the 100 with a filtered receive
 * (each scans past the whole backlog, as Erlang's receive does) and checks
 * they come in order. Seconds from the first receive to the last.
 */
async function selectiveReceive(backlog: number, matches: number): Promise<number> {
  const node = newNode();
  let secs = 0;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const pid = node.spawn(async (ctx) => {
    await ctx.receive((m) => m === 'go');
    const t0 = performance.now();
    for (let i = 0; i < matches; i++) {
      const m = (await ctx.receive(isMatch)) as { match: number };
      if (m.match !== i) throw new Error(`selective receive out of order: ${m.match} for ${i}`);
    }
    secs = (performance.now() - t0) / 1e3;
    finish();
  });
  for (let i = 0; i < backlog; i++) node.send(pid, { other: i } satisfies Backlogged);
  for (let i = 0; i < matches; i++) node.send(pid, { match: i } satisfies Backlogged);
  node.send(pid, 'go');
  await finished;
  node.shutdown();
  return secs;
}

/** Process style: `await ctx.receive()` on both sides, one Promise per message. */
async function pingpongReceive(n: number): Promise<number> {
  const node = newNode();
  let tEnd = 0;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  let pingPid: Pid | null = null;
  let start!: () => void;
  const started = new Promise<void>((r) => (start = r));
  const pongPid = node.spawn(async (ctx) => {
    start();
    for (;;) {
      await ctx.receive();
      ctx.send(pingPid!, MSG);
    }
  });
  pingPid = node.spawn(async (ctx) => {
    for (let i = 0; i < n; i++) {
      ctx.send(pongPid, MSG);
      await ctx.receive();
    }
    tEnd = performance.now();
    finish();
  });
  await started;
  const t0 = performance.now();
  await finished;
  node.shutdown();
  return (tEnd - t0) / 1e3;
}

// ---- calls -------------------------------------------------------------------------

/**
 * A caller process makes `n` sequential calls (one outstanding, as in
 * `gen_server:call` from one process). With `samples`, each call is timed
 * on its own with performance.now(): a call is ~1 µs and the clock ~70 ns,
 * so per-call timing is affordable, and the calibrated clock cost is
 * subtracted afterwards. The throughput runs do not read the clock per call.
 */
async function calls(n: number, samples: Float64Array | null): Promise<number> {
  const node = newNode();
  const server = await callServer(node);
  let tEnd = 0;
  let t0 = 0;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  node.spawn(async (ctx) => {
    t0 = performance.now();
    if (samples === null) {
      for (let i = 0; i < n; i++) await GenServer.call(ctx, server, MSG);
    } else {
      for (let i = 0; i < n; i++) {
        const a = performance.now();
        await GenServer.call(ctx, server, MSG);
        samples[i] = performance.now() - a;
      }
    }
    tEnd = performance.now();
    finish();
  });
  await finished;
  node.shutdown();
  return (tEnd - t0) / 1e3;
}

// ---- spawn and memory ------------------------------------------------------------------

/** One behaviour object for all idle processes: what a process costs, not its closure. */
const IDLE = { name: 'idle', handle(): void {} };

/** Spawns n idle processes and waits until all have started (FIFO run queue: the sentinel starts last). */
async function spawnIdle(node: Node, n: number): Promise<void> {
  for (let i = 0; i < n; i++) node.spawn(IDLE);
  await new Promise<void>((resolve) => {
    node.spawn({
      init(): undefined {
        resolve();
        return undefined;
      },
      handle(): void {},
    });
  });
}

// ---- lag under flood ----------------------------------------------------------------------

/**
 * A flooder process sends 3,000 messages to one sink per visit, ten times
 * what the sink handles per visit (its throughput, 300), so the sink's
 * mailbox grows to millions; meanwhile a 1 ms timer chain records how late
 * it fires. The figure is the worst lateness: what a socket or timer would
 * wait while the node is flooded.
 */
async function floodLag(n: number): Promise<number> {
  const node = newNode();
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const sink = node.spawn(new Sink(n, () => finish()));
  const srcPid = node.spawn(new Source(sink, n, 3000), { throughput: 1 });
  await turn();
  let worst = 0;
  let running = true;
  let last = performance.now();
  const probe = (): void => {
    const now = performance.now();
    worst = Math.max(worst, now - last - 1);
    last = now;
    if (running) setTimeout(probe, 1);
  };
  setTimeout(probe, 1);
  node.send(srcPid, MORE);
  await finished;
  running = false;
  await new Promise((r) => setTimeout(r, 3)); // let the last probe run
  node.shutdown();
  return worst;
}

// ---- cases ---------------------------------------------------------------------------------

export const baseline = 'baseline';
export const probe = bareDispatch;
export const probeN = 5_000_000;

export const cases: Record<string, BenchCase> = {
  baseline: {
    describe: 'bare ring-buffer dispatch loop (no runtime), 5M messages in chunks of 300: the ratio baseline',
    reports: ['local.baseline'],
    async run(ctx) {
      await measureRate(ctx, 'local.baseline', 'msgs/s', ctx.n(5_000_000, 1), async (n) => bareDispatch(n));
    },
  },
  oneway: {
    describe: 'one-way send, 1 behaviour-style sender → 1 receiver, 5M messages',
    reports: ['local.oneway'],
    async run(ctx) {
      await measureRate(ctx, 'local.oneway', 'msgs/s', ctx.n(5_000_000), (n) => oneway(n, 1));
    },
  },
  oneway10: {
    describe: 'one-way send, 10 sender/receiver pairs sharing 5M messages',
    reports: ['local.oneway10'],
    async run(ctx) {
      await measureRate(ctx, 'local.oneway10', 'msgs/s', ctx.n(5_000_000), (n) => oneway(n, 10));
    },
  },
  pingpong: {
    describe: 'ping-pong round trips between two behaviour-style processes, 1M',
    reports: ['local.pingpong'],
    async run(ctx) {
      await measureRate(ctx, 'local.pingpong', 'rt/s', ctx.n(1_000_000), pingpong);
    },
  },
  pingpongReceive: {
    describe: 'ping-pong round trips between two process-style processes (await ctx.receive()), 1M',
    reports: ['local.pingpong.receive'],
    async run(ctx) {
      await measureRate(ctx, 'local.pingpong.receive', 'rt/s', ctx.n(1_000_000), pingpongReceive);
    },
  },
  call: {
    describe: 'sequential GenServer calls from another process, 1M: calls/s, and p50/p99 per call',
    reports: ['local.call', 'local.call.p50', 'local.call.p99'],
    async run(ctx) {
      const n = ctx.n(1_000_000);
      await measureRate(ctx, 'local.call', 'calls/s', n, (k) => calls(k, null));
      const samples = new Float64Array(n);
      const clock = clockOverheadMs();
      await calls(n, samples);
      for (let i = 0; i < n; i++) samples[i] = Math.max(0, samples[i]! - clock);
      samples.sort();
      ctx.report({ name: 'local.call.p50', value: percentile(samples, 50) * 1e3, unit: 'µs' });
      ctx.report({ name: 'local.call.p99', value: percentile(samples, 99) * 1e3, unit: 'µs' });
    },
  },
  spawn: {
    describe: 'spawn 1M idle behaviour-style processes (until all have started); heap bytes per idle process',
    reports: ['local.spawn', 'local.bytesPerProcess'],
    async run(ctx) {
      const n = ctx.n(1_000_000);
      await measureRate(ctx, 'local.spawn', 'procs/s', n, async (k) => {
        const node = newNode();
        const t0 = performance.now();
        await spawnIdle(node, k);
        const secs = (performance.now() - t0) / 1e3;
        node.shutdown(); // not timed; frees the processes for the next run
        return secs;
      });
      // GC only here, around the memory measurement (a forced GC elsewhere deoptimises closure-heavy code).
      gcNow();
      const before = process.memoryUsage().heapUsed;
      const node = newNode();
      await spawnIdle(node, n);
      gcNow();
      const after = process.memoryUsage().heapUsed;
      if (node.processCount !== n + 1) throw new Error(`expected ${n + 1} processes, found ${node.processCount}`);
      ctx.report({ name: 'local.bytesPerProcess', value: (after - before) / n, unit: 'B' });
    },
  },
  restart: {
    describe: 'one_for_one supervisor restarting a crashed child (the child throws): p50/p99 from crash to the new child running',
    reports: ['local.restart.p50', 'local.restart.p99'],
    run: (ctx: CaseContext) => restartCase(ctx, newNode),
  },
  selectiveReceive100k: {
    describe: 'selective receive: 100 matching messages at the end of a 100k backlog, taken in order (ms from first receive to last)',
    reports: ['local.selectiveReceive100k'],
    async run(ctx) {
      const backlog = ctx.n(100_000, 1);
      await selectiveReceive(backlog, 100); // warm-up
      const runs: number[] = [];
      for (let i = 0; i < ctx.runs; i++) runs.push((await selectiveReceive(backlog, 100)) * 1e3);
      ctx.report({ name: 'local.selectiveReceive100k', value: median(runs), unit: 'ms', runs });
    },
  },
  lagUnderFlood: {
    describe: 'worst event-loop lag (1 ms timer lateness) while one process is flooded with 5M messages',
    reports: ['local.lagUnderFlood'],
    async run(ctx) {
      const n = ctx.n(5_000_000);
      await floodLag(Math.max(1, Math.floor(n / 5))); // warm-up
      const runs: number[] = [];
      for (let i = 0; i < ctx.runs; i++) runs.push(await floodLag(n));
      // The worst over all runs: a lag target is about the worst case, not the typical one.
      ctx.report({ name: 'local.lagUnderFlood', value: Math.max(...runs), unit: 'ms', runs });
    },
  },
};

export const metrics: Record<string, MetricInfo> = {
  'local.baseline': { unit: 'msgs/s' },
  'local.oneway': { unit: 'msgs/s', target: { op: '>=', value: 36e6 }, erlang: 11.6e6 },
  'local.oneway10': { unit: 'msgs/s', target: { op: '>=', value: 36e6 } },
  'local.pingpong': { unit: 'rt/s', target: { op: '>=', value: 10e6 }, erlang: 1.9e6 },
  'local.pingpong.receive': { unit: 'rt/s', erlang: 1.9e6 },
  'local.call': { unit: 'calls/s' },
  'local.call.p50': { unit: 'µs', target: { op: '<=', value: 1 }, erlang: 1.09 },
  'local.call.p99': { unit: 'µs' },
  'local.spawn': { unit: 'procs/s', target: { op: '>=', value: 1e6 }, erlang: 0.23e6, erlangNote: '1M at once' },
  'local.bytesPerProcess': { unit: 'B', target: { op: '<=', value: 600 } },
  'local.restart.p50': { unit: 'µs', target: { op: '<=', value: 20 }, erlang: 7, erlangNote: 'spread; 74 µs one supervisor' },
  'local.restart.p99': { unit: 'µs' },
  'local.lagUnderFlood': { unit: 'ms', ratio: false, target: { op: '<=', value: 10 } },
  'local.selectiveReceive100k': { unit: 'ms', target: { op: '<=', value: 54 }, erlang: 54, erlangNote: '51-82 ms median (bench/erlang/selective_receive.erl)' },
};
