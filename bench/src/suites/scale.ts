/**
 * Suite `scale`: what a bigger cluster costs. Real `troupe node` processes
 * for idle CPU and mesh formation; a simulated cluster (up to 200 nodes in
 * this one process over `MemoryNetwork`, Registry and DistributedSupervisor
 * on each) for convergence, balance and fail-over at sizes this 2-core box
 * cannot run as processes. Simulated figures are wall time in this process,
 * where all nodes share one thread: an upper bound of what one node of a
 * real cluster would take (each has its own core there).
 */
import { createServer, connect, type AddressInfo } from 'node:net';
import { MemoryNetwork, Node, silentLogger, type VirtualTime } from '@troupe/actor-core';
import { DistributedSupervisor, PubSub, Registry, type ReplicaTiming } from '@troupe/registry-crdt';
import { WebSocket, WebSocketServer } from 'ws';
import { median, type BenchCase, type CaseContext, type MetricInfo } from '../harness.js';
import { TroupeCluster } from './troupe-nodes.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Bounded polling with a coarse timer: 200 simulated nodes keep the loop busy, 1 ms polls would only add to it. */
async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

/**
 * When the idle windows begin after the mesh formed, and how long they are.
 * A node's first minute is not idle yet: V8's worker threads still optimise
 * the idle path (~1 ms of CPU a second, nearly all in the optimising
 * compiler), so the figure is taken from a minute on, and the window 5 s
 * after the mesh is reported beside it (`.afterStart`).
 */
const IDLE_WINDOWS = { windowMs: 30_000, afterStartMs: 5000, steadyMs: 60_000 } as const;
const QUICK_WINDOWS = { windowMs: 6000, afterStartMs: 1000, steadyMs: 8000 } as const;

/** Per-node CPU (% of one core) of `n` idle troupe node processes over both windows of one cluster. */
export async function idleCpu(n: number, quick: boolean, cliArgs: string[] = []): Promise<{ afterStart: number[]; steady: number[] }> {
  const w = quick ? QUICK_WINDOWS : IDLE_WINDOWS;
  const cl = await TroupeCluster.start(n, [], cliArgs);
  try {
    await cl.awaitMesh();
    const meshed = performance.now();
    const windowFrom = async (startMs: number): Promise<number[]> => {
      await sleep(Math.max(0, meshed + startMs - performance.now()));
      const c0 = cl.nodes.map((x) => x.cpuMs());
      const t0 = performance.now();
      await sleep(w.windowMs);
      const el = performance.now() - t0;
      return cl.nodes.map((x, i) => ((x.cpuMs() - c0[i]!) / el) * 100);
    };
    const afterStart = await windowFrom(w.afterStartMs);
    return { afterStart, steady: await windowFrom(w.steadyMs) };
  } finally {
    await cl.stop();
  }
}

/** Reports `name` (median of the steady window) and `name.afterStart`. */
function reportIdle(ctx: CaseContext, name: string, r: { afterStart: number[]; steady: number[] }): void {
  ctx.report({ name, value: median(r.steady), unit: '%', runs: r.steady });
  ctx.report({ name: `${name}.afterStart`, value: median(r.afterStart), unit: '%', runs: r.afterStart });
}

interface Sim {
  net: MemoryNetwork;
  nodes: Node[];
  regs: Registry[];
  sups: DistributedSupervisor[];
}

const BEHAVIOUR = 'scale_idle';

/**
 * The services' timers run on wall time, and one thread doing the work of
 * every node makes wall time pass ~100x faster than a node's simulated time
 * (200 nodes, most of them busy). Their periods are stretched by that much,
 * so rounds come as often per simulated second as the defaults' would (flush
 * window 5 ms, anti-entropy 5 s, full rounds 60 s, take-over grace 2 s): at
 * the defaults a 5 s round came every ~50 ms of a node's time, and HELLOs and
 * the resends they cause were a third of all frames.
 */
const SIM_SLOWDOWN = 100;
const SIM_TIMING: ReplicaTiming = { flushDelayMs: 5 * SIM_SLOWDOWN, antiEntropyMs: 5000 * SIM_SLOWDOWN, antiEntropyFullMs: 60_000 * SIM_SLOWDOWN };

async function simCluster(n: number, sup: boolean): Promise<Sim> {
  const net = new MemoryNetwork({ codec: true, virtualTime: true });
  const nodes = Array.from({ length: n }, (_, i) => new Node({ name: `m${i}@sim`, logger: silentLogger }));
  net.mesh(...nodes);
  const regs = await Promise.all(nodes.map((node) => Registry.start(node, { name: 'names', ...SIM_TIMING })));
  const sups: DistributedSupervisor[] = [];
  if (sup) {
    for (const node of nodes) DistributedSupervisor.registerBehaviour(node, BEHAVIOUR, { start: (sup) => ({ ok: sup.spawnLink({ handle() {} }) }) });
    sups.push(...(await Promise.all(nodes.map((node, i) => DistributedSupervisor.start(node, { name: 'sup', registry: regs[i]!, ...SIM_TIMING, orphanGraceMs: 2000 * SIM_SLOWDOWN })))));
  }
  await Promise.all(regs.map((r) => r.whenReady()));
  return { net, nodes, regs, sups };
}

function stopSim(s: Sim): void {
  for (const n of s.nodes) n.shutdown();
}

const MESH_SIZES = [3, 16, 64, 200] as const;
const OLD_SIZES = [3, 16, 64] as const;
/** Replica timers 10x the defaults' speed (anti-entropy 5 s -> 500 ms, full round 60 s -> 6 s). */
const SPEEDUP = 10;

export const baseline = 'idle';

export const cases: Record<string, BenchCase> = {
  idle: {
    describe:
      '16 troupe node processes, meshed and idle (gateway on, no requests): CPU per node in % of one core over 30 s from a minute after the mesh formed (6 s from 8 s with --quick), median and max; `.afterStart` the same over the window 5 s after (1 s with --quick); `idleCpu3` at 3 nodes',
    reports: ['scale.idleCpu', 'scale.idleCpu.max', 'scale.idleCpu.afterStart', 'scale.idleCpu3', 'scale.idleCpu3.afterStart'],
    async run(ctx) {
      reportIdle(ctx, 'scale.idleCpu3', await idleCpu(3, ctx.quick));
      const r = await idleCpu(16, ctx.quick);
      reportIdle(ctx, 'scale.idleCpu', r);
      ctx.report({ name: 'scale.idleCpu.max', value: Math.max(...r.steady), unit: '%' });
    },
  },

  frameCost: {
    describe:
      'what an idle node pays per wake-up and per small frame on this host: rounds 20 ms apart in this process, each a timer wake-up alone, or with a 17-byte write on a loopback TCP socket read back here, or the same as a WebSocket message (ws); CPU per round in µs, median of 3 runs of 300 rounds',
    reports: ['scale.frameCost.wakeup', 'scale.frameCost.netFrame', 'scale.frameCost.wsFrame'],
    async run(ctx) {
      const rounds = ctx.n(300, 5);
      const frame = Buffer.alloc(17, 1);
      // CPU per round of `act` at one round per 20 ms: the paths run cold, as an idle node's ticks do.
      const perRound = async (act: () => void): Promise<number> => {
        const runs: number[] = [];
        for (let r = 0; r < 4; r++) {
          const c0 = process.cpuUsage();
          for (let i = 0; i < rounds; i++) {
            act();
            await sleep(20);
          }
          const c = process.cpuUsage(c0);
          if (r > 0) runs.push((c.user + c.system) / rounds); // the first is warm-up
        }
        return median(runs);
      };
      ctx.report({ name: 'scale.frameCost.wakeup', value: await perRound(() => {}), unit: 'µs' });
      const srv = createServer((sock) => sock.on('data', () => {}));
      await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
      const client = connect((srv.address() as AddressInfo).port, '127.0.0.1');
      client.setNoDelay(true);
      await new Promise((r) => client.once('connect', r));
      ctx.report({ name: 'scale.frameCost.netFrame', value: await perRound(() => client.write(frame)), unit: 'µs' });
      client.destroy();
      srv.close();
      const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
      await new Promise((r) => wss.once('listening', r));
      wss.on('connection', (s) => s.on('message', () => {}));
      const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, { perMessageDeflate: false });
      await new Promise((r) => ws.once('open', r));
      ctx.report({ name: 'scale.frameCost.wsFrame', value: await perRound(() => ws.send(frame)), unit: 'µs' });
      ws.close();
      wss.close();
    },
  },

  idleTick3000: {
    describe: 'the idle case at 16 nodes with `troupe node --tick-ms 3000` (a hung peer down after 12 s instead of 4 s): what fewer ticks save, median per node over the same windows',
    reports: ['scale.idleCpu.tick3000', 'scale.idleCpu.tick3000.afterStart'],
    async run(ctx) {
      reportIdle(ctx, 'scale.idleCpu.tick3000', await idleCpu(16, ctx.quick, ['--tick-ms', '3000']));
    },
  },

  mesh32: {
    describe: '32 troupe node processes started (all joining the first): ms from the first spawn until every node sees 31 peers',
    reports: ['scale.mesh32'],
    async run(ctx) {
      const n = ctx.quick ? 8 : 32;
      const t0 = performance.now();
      const cl = await TroupeCluster.start(n);
      try {
        await cl.awaitMesh(120_000);
        ctx.report({ name: 'scale.mesh32', value: performance.now() - t0, unit: 'ms' });
      } finally {
        await cl.stop();
      }
    },
  },

  meshCost: {
    describe:
      'what each node of a full mesh sends at idle, 3 to 200 simulated nodes (MemoryNetwork, wire codec on) running what a troupe node runs (Registry, DistributedSupervisor, PubSub: three replicas), 10 names each; replica timers 10x faster, counted over one full anti-entropy period and given per real minute; also with every round to every peer (the behaviour before)',
    reports: MESH_SIZES.flatMap((n) => [`scale.meshCost.n${n}.framesPerMin`, `scale.meshCost.n${n}.bytesPerMin`]).concat(OLD_SIZES.map((n) => `scale.meshCost.n${n}.framesPerMinEveryRound`)),
    async run(ctx) {
      for (const n of ctx.quick ? [3, 16] : MESH_SIZES) {
        const r = await idleTraffic(n, false);
        ctx.report({ name: `scale.meshCost.n${n}.framesPerMin`, value: r.frames, unit: 'msgs/min' });
        ctx.report({ name: `scale.meshCost.n${n}.bytesPerMin`, value: r.bytes, unit: 'B/min' });
      }
      for (const n of ctx.quick ? [3] : OLD_SIZES) {
        const r = await idleTraffic(n, true);
        ctx.report({ name: `scale.meshCost.n${n}.framesPerMinEveryRound`, value: r.frames, unit: 'msgs/min' });
      }
    },
  },

  sim200: {
    describe:
      '200 nodes in this process on MemoryNetwork (wire codec on, simulated time: each node\'s clock advances by its own CPU work, as with a core per node; see VirtualTime): 100k names registered across them, simulated ms until every replica holds all, and the wall ms of this one thread (--quick: 50 nodes, 10k names)',
    reports: ['scale.sim200.converge', 'scale.sim200.convergeMedian', 'scale.sim200.convergeWall'],
    // 100k entries on each of 200 replicas: ~7 GB of heap at ~350 B per replica entry.
    heapMb: 14_000,
    async run(ctx) {
      const r = await simNames(ctx.quick ? 50 : 200, ctx.n(100_000));
      ctx.report({ name: 'scale.sim200.converge', value: r.sim, unit: 'ms' });
      ctx.report({ name: 'scale.sim200.convergeMedian', value: r.median, unit: 'ms' });
      ctx.report({ name: 'scale.sim200.convergeWall', value: r.wall, unit: 'ms' });
    },
  },

  sim200sup: {
    describe:
      '200 simulated nodes as in sim200, a DistributedSupervisor on each: 100k children started through the nodes in turn once every node sees all 200, max/mean children per node (--quick: 50 nodes, 10k children)',
    reports: ['scale.sim200.balance'],
    // ~600 B per child record per replica: 100k children on 200 replicas is ~12 GB of heap.
    heapMb: 16_000,
    // Starting them takes this one thread more than the default 10 minutes (most of a 25-minute run).
    limitMs: 40 * 60_000,
    async run(ctx) {
      const n = ctx.quick ? 50 : 200;
      const s = await simSupervisor(n, ctx.quick ? 10_000 : 100_000);
      try {
        ctx.report({ name: 'scale.sim200.balance', value: s.balance, unit: '×' });
      } finally {
        stopSim(s.sim);
      }
    },
  },

  sim200failover: {
    describe:
      '200 simulated nodes with 20k DistributedSupervisor children (as sim200sup; starting 100k alone takes most of 25 minutes of this thread), then 20 nodes removed at once: simulated ms until every survivor holds all children again, none on a removed node, and the wall ms (--quick: 50 nodes, 5k children)',
    reports: ['scale.sim200.failover', 'scale.sim200.failoverWall'],
    heapMb: 8000,
    async run(ctx) {
      const n = ctx.quick ? 50 : 200;
      const children = ctx.quick ? 5000 : 20_000;
      const { sim: s } = await simSupervisor(n, children);
      const clock = s.net.clock!;
      try {
        // A tenth of the nodes disappear at once. The network reports them down after what they had
        // in flight (detection ~0 here; over transport-ws it is the socket close or the tick timeout).
        const kill = Math.round(n / 10);
        const survivors = s.sups.slice(0, n - kill);
        const t0 = clock.sync();
        const w0 = performance.now();
        for (const v of s.nodes.slice(n - kill)) v.shutdown();
        const done = await eachDone(
          s.nodes.slice(0, n - kill),
          (i) => survivors[i]!.targets().length === n - kill && recordsHeld(survivors[i]!) === children,
          clock,
          'every child running on a survivor',
        );
        ctx.report({ name: 'scale.sim200.failover', value: Math.max(...done) - t0, unit: 'ms' });
        ctx.report({ name: 'scale.sim200.failoverWall', value: performance.now() - w0, unit: 'ms' });
      } finally {
        stopSim(s);
      }
    },
  },
};

/** Frames and bytes one node sends per real minute at idle (median over nodes); `everyRound`: every anti-entropy round goes to every peer. */
async function idleTraffic(n: number, everyRound: boolean): Promise<{ frames: number; bytes: number }> {
  const timing: ReplicaTiming = { antiEntropyMs: 5000 / SPEEDUP, antiEntropyFullMs: everyRound ? 5000 / SPEEDUP : 60_000 / SPEEDUP };
  const net = new MemoryNetwork({ codec: true });
  const nodes = Array.from({ length: n }, (_, i) => new Node({ name: `m${i}@sim`, logger: silentLogger }));
  net.mesh(...nodes);
  try {
    const regs = await Promise.all(nodes.map((node) => Registry.start(node, { name: 'names', ...timing })));
    await Promise.all(nodes.map((node, i) => DistributedSupervisor.start(node, { name: 'sup', registry: regs[i]!, ...timing })));
    await Promise.all(nodes.map((node) => PubSub.start(node, { name: 'ps', ...timing })));
    for (let i = 0; i < n; i++) for (let j = 0; j < 10; j++) regs[i]!.register(`u${i}:${j}`, nodes[i]!.spawn({ handle() {} }, {}));
    await until(() => regs.every((r) => r.count() === 10 * n), 120_000, 'names on every replica');
    await sleep(1000); // joins' snapshots and acks are not idle traffic
    const sent = (): { frames: number[]; bytes: number[] } => {
      const frames = nodes.map(() => 0);
      const bytes = nodes.map(() => 0);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          if (i === j) continue;
          const st = net.stats(nodes[i]!, nodes[j]!);
          frames[i]! += st.sent;
          bytes[i]! += st.bytes;
        }
      }
      return { frames, bytes };
    };
    const a = sent();
    const windowMs = 60_000 / SPEEDUP;
    await sleep(windowMs);
    const b = sent();
    const perMin = (x: number[], y: number[]): number => median(y.map((v, i) => v - x[i]!)) * (60_000 / (windowMs * SPEEDUP));
    return { frames: perMin(a.frames, b.frames), bytes: perMin(a.bytes, b.bytes) };
  } finally {
    for (const node of nodes) node.shutdown();
  }
}

/** Names registered across `n` simulated nodes: simulated ms until every replica holds all (and the median replica), and wall ms. */
async function simNames(n: number, names: number): Promise<{ sim: number; median: number; wall: number }> {
  const s = await simCluster(n, false);
  const clock = s.net.clock!;
  try {
    const per = Math.ceil(names / n);
    const total = per * n;
    const t0 = clock.sync();
    const w0 = performance.now();
    for (let i = 0; i < n; i++) {
      const node = s.nodes[i]!;
      clock.runAs(node.name, () => {
        for (let j = 0; j < per; j++) s.regs[i]!.register(`u${i}:${j}`, node.spawn({ handle() {} }, {}));
      });
    }
    const done = await eachDone(s.nodes, (i) => s.regs[i]!.count() === total, clock, `${total} names on ${n} replicas`);
    return { sim: Math.max(...done) - t0, median: median(done) - t0, wall: performance.now() - w0 };
  } finally {
    stopSim(s);
  }
}

/**
 * Polls `cond(i)` for every node until all hold; returns each node's clock
 * at the poll that first saw it hold. A node may have done a little more
 * work by then than at the moment it held: upper bounds.
 */
async function eachDone(nodes: readonly Node[], cond: (i: number) => boolean, clock: VirtualTime, what: string): Promise<number[]> {
  const at: number[] = nodes.map(() => NaN);
  const left = new Set(nodes.map((_, i) => i));
  await until(
    () => {
      for (const i of left) {
        if (!cond(i)) continue;
        left.delete(i);
        at[i] = clock.now(nodes[i]!.name);
      }
      return left.size === 0;
    },
    1_200_000,
    what,
  );
  return at;
}

/** Live records in a supervisor's local replica, running or not (O(origins), where `countChildren` is O(children)). */
function recordsHeld(sup: DistributedSupervisor): number {
  return (sup as unknown as { replicaOf: { engine: { size: number } } }).replicaOf.engine.size;
}

/** `children` started across `n` simulated nodes once each sees all targets; their balance (max/mean per node). */
async function simSupervisor(n: number, children: number): Promise<{ sim: Sim; balance: number }> {
  const s = await simCluster(n, true);
  const clock = s.net.clock!;
  try {
    // Placement uses each node's view of the members: start once every node sees all (a formed cluster).
    await Promise.all(s.sups.map((x) => x.whenTargets(n, { timeoutMs: 120_000 })));
    // Started through every node in turn, as clients would spread them, a batch at a time: the next
    // batch once node 0 holds the records of the last. In one thread, a backlog of replication would
    // otherwise hold calls past their 30 s (wall) timeout. A batch gives each node ~10 starts, whose
    // records go out together (one delta per peer, not one per child): 100k children one at a time
    // would be 20M frames for this one thread.
    const batch = 2000;
    for (let k = 0; k < children; k += batch) {
      const m = Math.min(batch, children - k);
      await Promise.all(Array.from({ length: m }, (_, j) => s.sups[(k + j) % n]!.startChild({ behaviour: BEHAVIOUR, id: `c${k + j}`, restart: 'permanent' })));
      await until(() => recordsHeld(s.sups[0]!) >= k + m, 600_000, `${k + m} records on node 0`);
    }
    await eachDone(s.nodes, (i) => recordsHeld(s.sups[i]!) === children, clock, `${children} children on every replica`);
    const perNode = new Map<string, number>();
    for (const c of s.sups[0]!.whichChildren()) perNode.set(c.node, (perNode.get(c.node) ?? 0) + 1);
    const counts = s.nodes.map((x) => perNode.get(x.name) ?? 0);
    return { sim: s, balance: Math.max(...counts) / (children / n) };
  } catch (e) {
    stopSim(s);
    throw e;
  }
}

export const metrics: Record<string, MetricInfo> = {
  ...Object.fromEntries(MESH_SIZES.flatMap((n) => [[`scale.meshCost.n${n}.framesPerMin`, { unit: 'msgs/min', ratio: false }], [`scale.meshCost.n${n}.bytesPerMin`, { unit: 'B/min', ratio: false }]])),
  ...Object.fromEntries(OLD_SIZES.map((n) => [`scale.meshCost.n${n}.framesPerMinEveryRound`, { unit: 'msgs/min', ratio: false }])),
  'scale.idleCpu': { unit: '%', target: { op: '<=', value: 0.3 } },
  'scale.idleCpu.max': { unit: '%' },
  'scale.idleCpu.afterStart': { unit: '%' },
  'scale.idleCpu3': { unit: '%' },
  'scale.idleCpu3.afterStart': { unit: '%' },
  'scale.idleCpu.tick3000': { unit: '%' },
  'scale.idleCpu.tick3000.afterStart': { unit: '%' },
  'scale.mesh32': { unit: 'ms', ratio: false, target: { op: '<=', value: 5000 } },
  'scale.frameCost.wakeup': { unit: 'µs', ratio: false },
  'scale.frameCost.netFrame': { unit: 'µs', ratio: false },
  'scale.frameCost.wsFrame': { unit: 'µs', ratio: false },
  'scale.sim200.converge': { unit: 'ms', ratio: false, target: { op: '<=', value: 10_000 } },
  'scale.sim200.convergeMedian': { unit: 'ms', ratio: false },
  'scale.sim200.convergeWall': { unit: 'ms', ratio: false },
  'scale.sim200.balance': { unit: '×', target: { op: '<=', value: 1.3 } },
  'scale.sim200.failover': { unit: 'ms', ratio: false, target: { op: '<=', value: 2000 } },
  'scale.sim200.failoverWall': { unit: 'ms', ratio: false },
};
