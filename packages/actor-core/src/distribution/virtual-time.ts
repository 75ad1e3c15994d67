/**
 * Simulated time for many nodes sharing one thread (a `MemoryNetwork` with
 * `virtualTime`), as if each node had a core of its own.
 *
 * Each node has a clock that advances only by the CPU time of its own work:
 * its scheduler's turns (its processes' handlers, and what they send, encode
 * included) and the delivery of signals to it (decoding, dispatch). A signal
 * carries its sender's clock at the send, plus the link latency, and its
 * receiver's clock jumps to that stamp if it is behind: nothing is handled
 * before it was sent. Idle nodes do not advance. Work is still done in the
 * thread's order, not in simulated order, so a clock can only run ahead of
 * what a real parallel run would show, never behind: the figures are upper
 * bounds of a cluster with one core per node.
 *
 * Turns are timed in this process's CPU time, not wall time, so other
 * processes on the machine do not slow the simulated nodes down (V8's
 * helper threads, e.g. concurrent GC marking, count when they run).
 *
 * Work outside any metered turn (timers' callbacks before they reach a
 * process, promise continuations of callers) is not charged to anyone;
 * `runAs` charges a piece of synchronous code to a node explicitly.
 */
export class VirtualTime {
  /** One-way latency added to every signal's stamp, ms. */
  readonly latencyMs: number;
  private readonly clocks = new Map<string, number>();
  /** Metered turns in progress, innermost last: `base` is the node's clock at process CPU time `cpu0`. */
  private readonly stack: { node: string; base: number; cpu0: number }[] = [];

  constructor(latencyMs: number) {
    this.latencyMs = latencyMs;
  }

  /** `node`'s simulated time, ms (its turn in progress included). */
  now(node: string): number {
    const top = this.stack[this.stack.length - 1];
    if (top !== undefined && top.node === node) return top.base + (cpuMs() - top.cpu0);
    return this.clocks.get(node) ?? 0;
  }

  /** The latest of all clocks. */
  max(): number {
    let m = 0;
    for (const t of this.clocks.values()) if (t > m) m = t;
    for (const s of this.stack) m = Math.max(m, this.now(s.node));
    return m;
  }

  /** Moves every clock to the latest one (a barrier: the cluster was idle up to there), returns it. */
  sync(): number {
    const m = this.max();
    for (const k of this.clocks.keys()) this.clocks.set(k, m);
    return m;
  }

  /** Sets a node's clock (a node that joins at a given time). */
  set(node: string, t: number): void {
    this.clocks.set(node, t);
  }

  /** Runs `fn` as work of `node`. */
  runAs<T>(node: string, fn: () => T): T {
    this.begin(node);
    try {
      return fn();
    } finally {
      this.end();
    }
  }

  /** @internal Starts a metered turn of `node` (turns nest: the outer one is paused). */
  begin(node: string): void {
    const t = cpuMs();
    const top = this.stack[this.stack.length - 1];
    if (top !== undefined) this.clocks.set(top.node, top.base + (t - top.cpu0));
    this.stack.push({ node, base: this.clocks.get(node) ?? 0, cpu0: t });
  }

  /** @internal Ends the innermost turn. */
  end(): void {
    const t = cpuMs();
    const s = this.stack.pop();
    if (s === undefined) return;
    this.clocks.set(s.node, s.base + (t - s.cpu0));
    const top = this.stack[this.stack.length - 1];
    if (top !== undefined) {
      top.base = this.clocks.get(top.node) ?? 0;
      top.cpu0 = t;
    }
  }

  /** @internal The current turn handles something stamped `at`: its node cannot be earlier than that. */
  arrive(at: number): void {
    const top = this.stack[this.stack.length - 1];
    if (top === undefined) return;
    const t = cpuMs();
    if (at > top.base + (t - top.cpu0)) {
      top.base = at;
      top.cpu0 = t;
    }
  }
}

/** This process's CPU time, ms (1 µs resolution here, ~1.4 µs a call). */
function cpuMs(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}
