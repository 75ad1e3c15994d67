/**
 * Simulated time for many nodes sharing one thread (a `MemoryNetwork` with
 * `virtualTime`), as if each node had a core of its own.
 *
 * Each node has a clock that advances only by the CPU time of its own work:
 * its scheduler's turns (its processes' handlers, and what they send, encode
 * included) and the deliveries of signals to it (decoding, dispatch). A
 * signal is stamped with its sender's clock at the end of the turn that sent
 * it, plus the link latency, and a turn that handles it starts no earlier
 * than that stamp. Idle nodes do not advance. Both rules round up (a send
 * counts as late as its turn's end, a turn's whole work counts after the
 * latest signal it handled), and work runs in the thread's order, not in
 * simulated order: a clock can run ahead of a real parallel run, never
 * behind. The figures are upper bounds of a cluster with a core per node.
 *
 * Turns are timed in this process's CPU time, not wall time, so other
 * processes on the machine do not slow the simulated nodes down (V8's helper
 * threads, e.g. concurrent GC marking, count while they run). The clock is
 * read twice a turn, never per signal: it is a system call.
 *
 * Work outside any metered turn (timers' callbacks before they reach a
 * process, promise continuations of callers) is not charged to anyone;
 * `runAs` charges a piece of synchronous code to a node explicitly.
 */
export class VirtualTime {
  /** One-way latency added to every signal's stamp, ms. */
  readonly latencyMs: number;
  private readonly clocks = new Map<string, number>();
  /** Metered turns in progress, innermost last. */
  private readonly stack: Turn[] = [];

  constructor(latencyMs: number) {
    this.latencyMs = latencyMs;
  }

  /** `node`'s simulated time, ms (its turn in progress included). */
  now(node: string): number {
    const top = this.stack[this.stack.length - 1];
    if (top !== undefined && top.node === node) return top.clockAt(cpuMs());
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
    const cpu = cpuMs();
    const top = this.stack[this.stack.length - 1];
    if (top !== undefined) this.clocks.set(top.node, top.clockAt(cpu));
    this.stack.push(new Turn(node, this.clocks.get(node) ?? 0, cpu));
  }

  /** @internal Ends the innermost turn: what it sent is stamped with its end. */
  end(): void {
    const cpu = cpuMs();
    const s = this.stack.pop();
    if (s === undefined) return;
    const t = s.clockAt(cpu);
    this.clocks.set(s.node, t);
    s.stamp.t = t + this.latencyMs;
    const top = this.stack[this.stack.length - 1];
    // The outer turn goes on from its node's clock as it is now.
    if (top !== undefined) top.resume(this.clocks.get(top.node) ?? 0, cpu);
  }

  /** @internal The stamp for a signal `node` sends now: its current turn's (filled when the turn ends), or its clock. */
  stampOf(node: string): Stamp {
    const top = this.stack[this.stack.length - 1];
    if (top !== undefined && top.node === node) return top.stamp;
    return { t: (this.clocks.get(node) ?? 0) + this.latencyMs };
  }

  /** @internal The current turn handles a signal stamped `s`: its node cannot be earlier than that. */
  arrive(s: Stamp): void {
    const top = this.stack[this.stack.length - 1];
    // A stamp of a turn still running (NaN) cannot be handled yet in a real run: only delivery turns call this, and they never nest inside a sender's.
    if (top !== undefined && s.t > top.arrival) top.arrival = s.t;
  }
}

/** When a signal may be handled, ms of simulated time (NaN until its sending turn ends). */
export interface Stamp {
  t: number;
}

class Turn {
  readonly stamp: Stamp = { t: NaN };
  /** The latest stamp handled in this turn. */
  arrival = -Infinity;

  constructor(
    readonly node: string,
    private start: number,
    private cpu0: number,
  ) {}

  clockAt(cpu: number): number {
    return Math.max(this.start, this.arrival) + (cpu - this.cpu0);
  }

  resume(clock: number, cpu: number): void {
    this.start = clock;
    this.arrival = -Infinity;
    this.cpu0 = cpu;
  }
}

/** This process's CPU time, ms (1 µs resolution here). */
function cpuMs(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}
