import { Queue } from './queue.js';
import type { Proc } from './process.js';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** Default event-loop delay sampling interval, ms (see `monitorLag`). */
export const LAG_RESOLUTION_MS = 200;

export interface SchedulerOptions {
  /** Messages one process handles per visit before the next runs. */
  throughput: number;
  /** ms of continuous work after which the scheduler yields to the event loop. */
  sliceMs: number;
}

export interface SchedulerStats {
  /** Processes waiting in the run queue. */
  runQueue: number;
  /** Messages handled by behaviour-style processes since start. */
  processed: number;
  /** Times the scheduler gave the event loop a turn in the middle of work. */
  yields: number;
  /** Event-loop delay (ms) if lag monitoring is on. */
  lag?: { p50: number; p99: number; max: number; mean: number };
}

/**
 * A run queue of processes with pending work. Woken once on the idle→busy
 * transition (a microtask), it runs each process for up to its `throughput`
 * messages, and yields to the event loop with `setImmediate` when a time
 * slice is used up, so timers and sockets are served while actors are flooded.
 */
export class Scheduler {
  private readonly queue = new Queue<Proc>(64);
  private scheduled = false;
  private sliceStart = 0;
  private readonly sliceMs: number;
  processed = 0;
  yields = 0;
  private lag: IntervalHistogram | null = null;
  private lagResolutionNs = 0;
  /** @internal Charges each turn to a node's simulated clock (a `MemoryNetwork` with `virtualTime`). */
  meter: { begin(): void; end(): void } | null = null;
  private readonly runBound = (): void => {
    const m = this.meter;
    if (m === null) return this.run();
    m.begin();
    try {
      this.run();
    } finally {
      m.end();
    }
  };
  /** True from the start of a slice until the event loop's next check phase. */
  private inSlice = false;
  private wakeups = 0;
  private readonly endSliceBound = (): void => {
    this.inSlice = false;
  };

  constructor(opts: SchedulerOptions) {
    this.sliceMs = opts.sliceMs;
  }

  enqueue(p: Proc): void {
    p.queued = true;
    this.queue.push(p);
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.runBound); // the cheapest wake-up (no timer, no I/O phase), once per idle→busy
    }
  }

  private run(): void {
    const q = this.queue;
    // A slice spans every wake-up until the event loop gets a turn, so chains of
    // microtask wake-ups (process-style ping-pong, calls) cannot starve timers
    // and I/O. The clock is read on every 8th wake-up only: it costs as much as
    // a whole call round trip's scheduling.
    if (!this.inSlice) {
      this.inSlice = true;
      this.sliceStart = performance.now();
      setImmediate(this.endSliceBound);
    } else if ((++this.wakeups & 7) === 0 && performance.now() - this.sliceStart > this.sliceMs) {
      return this.yieldNow();
    }
    let checkAt = this.processed + 2048;
    let visits = 0;
    while (q.length > 0) {
      const p = q.shift()!;
      p.queued = false;
      if (p.run() && !p.queued) {
        p.queued = true;
        q.push(p);
      }
      if (this.processed >= checkAt || (++visits & 255) === 0) {
        checkAt = this.processed + 2048;
        if (performance.now() - this.sliceStart > this.sliceMs) {
          if (q.length > 0) return this.yieldNow();
          break;
        }
      }
    }
    this.scheduled = false;
  }

  private yieldNow(): void {
    this.yields++;
    this.scheduled = true;
    setImmediate(this.runBound);
  }

  /**
   * Starts sampling event-loop delay (reported by `stats().lag`): a timer
   * every `resolutionMs` measures how late it fires. Coarse by default: at
   * 10 ms the sampling timer alone woke an idle node 100 times a second,
   * about half a percent of a core; at 200 ms a stall of at least that long
   * is always seen, shorter ones with probability (stall / 200 ms).
   */
  monitorLag(resolutionMs = LAG_RESOLUTION_MS): void {
    if (this.lag !== null) return;
    this.lag = monitorEventLoopDelay({ resolution: resolutionMs });
    this.lagResolutionNs = resolutionMs * 1e6;
    this.lag.enable();
  }

  stopLagMonitor(): void {
    this.lag?.disable();
    this.lag = null;
  }

  stats(): SchedulerStats {
    const s: SchedulerStats = { runQueue: this.queue.length, processed: this.processed, yields: this.yields };
    const h = this.lag;
    if (h !== null && h.count > 0) {
      // The histogram holds whole intervals between samples: the lateness is what exceeds the resolution.
      const late = (ns: number): number => Math.max(0, ns - this.lagResolutionNs) / 1e6;
      s.lag = { p50: late(h.percentile(50)), p99: late(h.percentile(99)), max: late(h.max), mean: late(h.mean) };
    }
    return s;
  }
}
