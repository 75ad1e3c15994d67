/**
 * The `local` cases built on the OTP behaviours: the GenServer a call goes
 * to, and the supervised child whose restarts are timed.
 */
import { GenServer, Supervisor, isStarted, type Node, type Pid, type ServerRef } from '@troupe/actor-core';
import { percentile, type CaseContext } from '../harness.js';

type Echo = ServerRef<unknown, never, unknown>;

const echo: GenServer<null, unknown, never, unknown> = {
  name: 'bench_echo',
  init: () => ({ ok: null }),
  handleCall: (req, _from, state) => ({ reply: req, state }),
};

/** An echo GenServer, started (init done). */
export async function callServer(node: Node): Promise<Echo> {
  const r = await GenServer.start(node, echo, undefined);
  if (!isStarted(r)) throw new Error(`echo server did not start: ${JSON.stringify(r)}`);
  return r.ok as Echo;
}

// ---- restart ----------------------------------------------------------------------

/**
 * The hooks of the supervised worker. Module-level so the worker's callbacks
 * stay the same functions for every restart (one shape, warmed once).
 */
const hook = {
  crashAt: 0,
  /** Called from the new child's init with its pid. */
  started: (_pid: Pid): void => {},
};

const worker: GenServer<null, never, never, never, 'crash'> = {
  name: 'bench_worker',
  init(_args, ctx) {
    hook.started(ctx.self);
    return { ok: null };
  },
  handleInfo() {
    // A real crash: a throw from a callback. The clock starts at the throw, after
    // the Error (and its stack capture) exists: that cost is the child's, not the restart's.
    const e = new Error('bench crash');
    hook.crashAt = performance.now();
    throw e;
  },
};

/**
 * `n` restarts of one GenServer child under a one_for_one supervisor:
 * each sample runs from the throw in the child to the replacement's `init`
 * (the supervisor got the EXIT, decided, and called the child's start).
 * The next crash is sent only after the replacement started, so restarts
 * do not queue behind each other. Intensity/period are set so the limit
 * never trips; a short period keeps the supervisor's restart window small.
 */
async function restarts(newNode: () => Node, n: number, samples: Float64Array | null): Promise<void> {
  const node = newNode();
  let i = -1;
  let current: Pid | null = null;
  let wake: () => void = () => {};
  hook.started = (pid) => {
    if (i >= 0 && samples !== null) samples[i] = performance.now() - hook.crashAt;
    current = pid;
    wake();
  };
  const r = await Supervisor.start(node, { strategy: 'one_for_one', intensity: 1_000_000, period: 0.001 }, [
    { id: 'worker', start: (sup) => GenServer.startLink(sup, worker, undefined), shutdown: 'brutal_kill' },
  ]);
  if (!isStarted(r)) throw new Error(`supervisor did not start: ${JSON.stringify(r)}`);
  for (i = 0; i < n; i++) {
    const next = new Promise<void>((res) => (wake = res));
    node.send(current!, 'crash');
    await next;
  }
  hook.started = () => {};
  node.shutdown();
}

export async function restartCase(ctx: CaseContext, newNode: () => Node): Promise<void> {
  const n = ctx.n(100_000);
  await restarts(newNode, Math.max(1, Math.floor(n / 5)), null); // warm-up
  const samples = new Float64Array(n);
  await restarts(newNode, n, samples);
  samples.sort();
  // A restart is tens of µs: the ~70 ns clock read is noise here, not subtracted.
  ctx.report({ name: 'local.restart.p50', value: percentile(samples, 50) * 1e3, unit: 'µs' });
  ctx.report({ name: 'local.restart.p99', value: percentile(samples, 99) * 1e3, unit: 'µs' });
}
