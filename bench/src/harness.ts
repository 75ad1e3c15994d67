/**
 * What suites and the runner share: the shape of a suite, the units a figure
 * can have, and the measuring helpers (warm-up + median of runs, per-operation
 * latency samples, heap bytes per object).
 */
import type { Logger } from '@troupe/actor-core';

/** Units a case may report. The runner derives the ratio kind from the unit. */
export type Unit = 'msgs/s' | 'rt/s' | 'calls/s' | 'procs/s' | 'ns' | 'µs' | 'ms' | 's' | 'B' | 'B/s' | '%' | '×' | 'msgs/min' | 'B/min';

export type UnitKind = 'rate' | 'time' | 'size';

export function unitKind(unit: Unit): UnitKind {
  switch (unit) {
    case 'ns':
    case 'µs':
    case 'ms':
    case 's':
      return 'time';
    case 'B':
    case 'B/s': // traffic: bytes per second of wall time, not of CPU work
    case 'B/min':
    case 'msgs/min': // idle traffic, a count per minute of wall time
    case '%': // CPU share of one core
    case '×': // a quotient of two figures of the same run
      return 'size';
    default:
      return 'rate';
  }
}

/** Seconds per unit, for time units. */
export function secondsPer(unit: Unit): number {
  return unit === 'ns' ? 1e-9 : unit === 'µs' ? 1e-6 : unit === 'ms' ? 1e-3 : unit === 's' ? 1 : NaN;
}

/** Marks a figure line on a child's stdout. */
export const FIGURE_PREFIX = 'BENCH_FIGURE ';
/** Marks the baseline rate a child measured just before its case. */
export const BASELINE_PREFIX = 'BENCH_BASELINE ';
/** Marks the child's own CPU time (µs, user + system) on its last stdout line. */
export const CPU_PREFIX = 'BENCH_CPU ';

/** One figure a case measured (what a child prints, one JSON line each). */
export interface Figure {
  name: string;
  value: number;
  unit: Unit;
  /** Per-run values behind a median, for spread (optional). */
  runs?: number[];
}

/** What a case gets from the child: its scale and a way to report. */
export interface CaseContext {
  /** `--quick`: scale N down so a whole suite finishes in seconds. */
  readonly quick: boolean;
  /** N scaled for quick mode (full N / 10 by default). */
  n(full: number, quickDivisor?: number): number;
  /** Timed runs after the warm-up (median of these). */
  readonly runs: number;
  report(f: Figure): void;
  /**
   * CPU time (µs) that helper processes of this case used (e.g. the remote
   * suite's second node): counted as the case's own, not as noise from others.
   */
  addCpu(micros: number): void;
}

/** A benchmark case: one fresh child process runs it and reports one or more figures. */
export interface BenchCase {
  /** What it measures, for `--list` and the README. */
  readonly describe: string;
  /** Figure names it reports (so the runner can show a row when a case fails). */
  readonly reports: readonly string[];
  /** V8 old-space limit of the case's process, MiB, when the default (about 2 GiB here) is too small. */
  readonly heapMb?: number;
  /** The case's time limit, ms, when the runner's default (10 minutes) is too short. */
  readonly limitMs?: number;
  run(ctx: CaseContext): Promise<void>;
}

/** Static facts about a figure, shown in the table. */
export interface MetricInfo {
  unit: Unit;
  /** e.g. `{ op: '>=', value: 36e6 }`; for the report, never asserted. */
  target?: { op: '>=' | '<='; value: number };
  /** Erlang/OTP 25 on the project machine, same unit. */
  erlang?: number;
  erlangNote?: string;
  /**
   * The ratio is `value / (that figure's value)` from the same run instead of
   * the suite baseline rule, e.g. a remote call's latency against the bare
   * ws round trip (lower is better), or a throughput against the bare pipe.
   */
  ratioTo?: string;
  /**
   * false: no ratio. For times set by timers or the network (tick timeouts,
   * sync intervals, event-loop slices), where CPU speed × the time says
   * nothing: 4 s of SIGSTOP detection is not "16M dispatches".
   */
  ratio?: false;
}

/** A suite module exports these. */
export interface SuiteModule {
  /** Case name → case; run in this order. */
  cases: Record<string, BenchCase>;
  /** The case whose first figure is the suite's baseline (a rate). */
  baseline: string;
  /**
   * A short run of the baseline (seconds for n operations). If present, every
   * child runs it just before its case and the ratio uses that figure, so the
   * ratio compares figures taken under the same machine conditions (this box's
   * speed drifts by ±15% within minutes, with no other load visible).
   */
  probe?: (n: number) => number;
  /** Operations per probe run. */
  probeN?: number;
  metrics: Record<string, MetricInfo>;
}

// ---- measuring -------------------------------------------------------------

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank percentile of a sorted typed array. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/**
 * Throughput: one untimed warm-up run (JIT tiers up, ring buffers grow), then
 * `runs` timed runs; reports the median rate. `once(n)` does n operations and
 * resolves with the elapsed seconds it measured itself (so set-up stays out).
 * No forced GC between runs: it deoptimises closure-heavy code.
 */
export async function measureRate(
  ctx: CaseContext,
  name: string,
  unit: Unit,
  n: number,
  once: (n: number) => Promise<number>,
  warmupN = Math.max(1, Math.floor(n / 5)),
): Promise<number> {
  await once(warmupN);
  const rates: number[] = [];
  for (let i = 0; i < ctx.runs; i++) {
    const secs = await once(n);
    rates.push(n / secs);
  }
  const value = median(rates);
  ctx.report({ name, value, unit, runs: rates });
  return value;
}

/**
 * The cost of one `performance.now()` as it lands inside a measured interval
 * (median of back-to-back pairs). Latency samples subtract it, so a ~1 µs
 * figure is not inflated by the ~70 ns the clock itself costs on this box.
 */
export function clockOverheadMs(): number {
  const k = 200_000;
  const d = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    const a = performance.now();
    d[i] = performance.now() - a;
  }
  d.sort();
  return percentile(d, 50);
}

/** Resolves after the event loop has had a full turn (timers, I/O, check). */
export function turn(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

export function gcNow(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc (the bench runner does)');
  // Twice: the first pass can leave garbage reachable only from finalisation queues.
  gc();
  gc();
}

/** A node logger for cases: warnings and errors only, on stderr (a connection failure during a run must be visible). */
export const errorsOnly: Logger = {
  debug() {},
  info() {},
  warn(msg, data) {
    process.stderr.write(`warn ${msg} ${JSON.stringify(data ?? {})}\n`);
  },
  error(msg, data) {
    process.stderr.write(`error ${msg} ${JSON.stringify(data ?? {})}\n`);
  },
};
