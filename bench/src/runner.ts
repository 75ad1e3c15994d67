/**
 * The runner: each case in a fresh child process (its own JIT and heap, so
 * cases do not disturb each other), figures collected from the children's
 * stdout, ratios against the suite's baseline from the same run.
 * A library: the `troupe bench` command (apps/cli) is its one front end.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killAfter, killOnExit, onLines } from '@troupe/child-process';
import { BASELINE_PREFIX, CPU_PREFIX, FIGURE_PREFIX, secondsPer, unitKind, type BenchCase, type Figure, type MetricInfo, type Unit } from './harness.js';
import { loadSuite, suites } from './suites/index.js';
import { NoiseMeter, processCpuSeconds, waitForQuiet } from './noise.js';

const here = dirname(fileURLToPath(import.meta.url));
const childScript = resolve(here, 'child.js');
/** bench/dist/runner.js → the repository root. */
export const repoRoot = resolve(here, '..', '..');
export const defaultOut = resolve(repoRoot, 'bench-report', 'results.json');

/** One row of results.json. */
export interface Result {
  suite: string;
  name: string;
  /** null if the case failed. */
  value: number | null;
  unit: Unit;
  /**
   * The baseline the ratio uses (msgs/s of the bare dispatch loop), measured
   * in the same child just before the case (or the suite's baseline case);
   * null where no ratio applies.
   */
  baseline: number | null;
  /**
   * Machine-independent figure. Rates: value / baseline (share of the bare
   * loop's speed; higher is better). Times: value in seconds × baseline, i.e.
   * how many bare dispatches fit in that time (lower is better). Sizes: null
   * (bytes do not scale with CPU speed).
   */
  ratio: number | null;
  target?: { op: '>=' | '<='; value: number };
  erlang?: number;
  /** Per-run values behind a median. */
  runs?: number[];
  /** CPU cores other processes used while the case ran (Linux); >= NOISY_CORES marks the figure as disturbed. */
  noise?: number;
  error?: string;
  /** A reference the suite measures in the same run to divide by (the bare loop, the bare WebSocket pipe), not a Troupe figure. */
  inRunBaseline?: true;
}

/** Others' CPU, in cores, above which a figure counts as disturbed (others' load makes a figure unreliable). */
export const NOISY_CORES = 0.3;

export interface RunOptions {
  /** Suite names (`local`) or cases (`local.oneway`); empty: every suite. */
  targets: string[];
  quick?: boolean;
  /** Write `--cpu-prof` profiles of each child into this directory. */
  profileDir?: string | null;
  /** Per-case limit; the child is killed after it. */
  timeoutMs?: number;
  /** Before each case, wait up to this long for other processes to go quiet (default 0: don't wait). */
  quietWaitMs?: number;
  log?: (line: string) => void;
}

export function ratioOf(value: number, unit: Unit, baseline: number): number | null {
  switch (unitKind(unit)) {
    case 'rate':
      return value / baseline;
    case 'time':
      return value * secondsPer(unit) * baseline;
    default:
      return null;
  }
}

/** A target that names no suite, or a case its suite does not have. */
export class UnknownTargetError extends Error {
  override readonly name = 'UnknownTargetError';
}

/** `local` → the whole suite (case null); `local.oneway` → one case. */
function parseTarget(target: string): { suite: string; case: string | null } {
  const dot = target.indexOf('.');
  return dot < 0 ? { suite: target, case: null } : { suite: target.slice(0, dot), case: target.slice(dot + 1).split('.')[0]! };
}

/**
 * Which cases of which suites to run, in order; a suite's baseline always
 * runs first. Throws `UnknownTargetError` for a target that names nothing.
 */
export async function plan(targets: readonly string[]): Promise<{ suite: string; cases: string[] }[]> {
  const wanted = new Map<string, Set<string> | null>();
  for (const t of targets.length > 0 ? targets : Object.keys(suites)) {
    const { suite, case: c } = parseTarget(t);
    if (!(suite in suites)) throw new UnknownTargetError(`unknown suite '${suite}' (known: ${Object.keys(suites).join(', ')})`);
    const cur = wanted.get(suite);
    if (c === null || cur === null) wanted.set(suite, null);
    else (cur ?? wanted.set(suite, new Set()).get(suite)!).add(c);
  }
  const out: { suite: string; cases: string[] }[] = [];
  for (const [suite, only] of wanted) {
    const mod = await loadSuite(suite);
    const all = Object.keys(mod.cases);
    for (const c of only ?? []) {
      if (!all.includes(c)) throw new UnknownTargetError(`suite '${suite}' has no case '${c}' (cases: ${all.join(', ')})`);
    }
    const cases = [mod.baseline, ...all.filter((c) => c !== mod.baseline && (only === null || only.has(c)))];
    out.push({ suite, cases });
  }
  return out;
}

interface ChildOutcome {
  figures: Figure[];
  error: string | null;
  /** Others' CPU in cores during the case, if known. */
  noise: number | null;
  /** The baseline the child measured just before its case, if the suite has a probe. */
  probe: number | null;
}

function runChild(suite: string, caseName: string, opts: RunOptions, { heapMb, limitMs }: BenchCase): Promise<ChildOutcome> {
  const args = ['--expose-gc'];
  if (heapMb !== undefined) args.push(`--max-old-space-size=${heapMb}`);
  if (opts.profileDir) {
    mkdirSync(opts.profileDir, { recursive: true });
    args.push('--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`, `--cpu-prof-name=${suite}.${caseName}.cpuprofile`);
  }
  args.push(childScript, suite, caseName);
  if (opts.quick) args.push('--quick');
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    killOnExit(child); // also when troupe bench is interrupted (process.exit)
    const figures: Figure[] = [];
    const meter = new NoiseMeter();
    meter.start();
    const reaped0 = processCpuSeconds('self', 'reaped');
    let childCpu: number | null = null;
    let probe: number | null = null;
    let stderr = '';
    onLines(child.stdout, (line) => {
      if (line.startsWith(FIGURE_PREFIX)) figures.push(JSON.parse(line.slice(FIGURE_PREFIX.length)) as Figure);
      else if (line.startsWith(BASELINE_PREFIX)) probe = Number(line.slice(BASELINE_PREFIX.length));
      else if (line.startsWith(CPU_PREFIX)) childCpu = Number(line.slice(CPU_PREFIX.length)) / 1e6;
      else if (line.length > 0) opts.log?.(`  [${suite}.${caseName}] ${line}`);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
    });
    const limit = opts.timeoutMs ?? limitMs ?? 10 * 60_000;
    killAfter(child, limit);
    child.on('close', (code, signal) => {
      let error: string | null = null;
      if (code !== 0) {
        const why = signal === 'SIGKILL' ? `killed after ${limit / 1000} s` : `exit ${code ?? signal}`;
        const last = stderr.trim().split('\n').slice(-6).join('\n');
        error = `${why}${last ? `: ${last}` : ''}`;
      }
      // Without the child's own CPU (it failed) others' share is unknown. The processes a case
      // started and waited for (troupe nodes) are its own load, not others': the kernel counts them
      // into the child's once it is waited for; the figure it reported covers helpers it did not wait for.
      const reaped1 = processCpuSeconds('self', 'reaped');
      const tree = reaped0 === null || reaped1 === null ? 0 : reaped1 - reaped0;
      const noise = childCpu === null ? null : meter.stop(Math.max(childCpu, tree));
      resolvePromise({ figures, error, noise, probe });
    });
  });
}

/** Runs the planned cases one after another and returns the rows of results.json. */
export async function runBench(opts: RunOptions): Promise<Result[]> {
  const log = opts.log ?? (() => {});
  const results: Result[] = [];
  for (const { suite, cases } of await plan(opts.targets)) {
    const mod = await loadSuite(suite);
    const first = results.length;
    let baseline: number | null = null;
    for (const c of cases) {
      if (opts.quietWaitMs) {
        await waitForQuiet(NOISY_CORES, opts.quietWaitMs, (cores) =>
          log(`  waiting up to ${Math.round(opts.quietWaitMs! / 1e3)} s for other processes to go quiet (they use ${cores.toFixed(2)} cores)`),
        );
      }
      const started = performance.now();
      log(`${suite}.${c} ...`);
      const { figures, error, noise, probe } = await runChild(suite, c, opts, mod.cases[c]!);
      const noiseNote = noise !== null && noise >= NOISY_CORES ? `, NOISY: others used ${noise.toFixed(2)} cores` : '';
      log(`${suite}.${c} done in ${((performance.now() - started) / 1e3).toFixed(1)} s${noiseNote}${error ? ` (FAILED: ${error})` : ''}`);
      if (c === mod.baseline && figures[0] !== undefined) baseline = figures[0].value;
      const reported = new Set<string>();
      for (const f of figures) {
        reported.add(f.name);
        const r = row(suite, f.name, f.value, f.unit, probe ?? baseline, mod.metrics[f.name], f.runs);
        if (noise !== null) r.noise = Math.round(noise * 100) / 100;
        if (c === mod.baseline) r.inRunBaseline = true;
        results.push(r);
      }
      // A failed case still gets its rows, with the error, so the table shows the gap.
      for (const name of mod.cases[c]!.reports) {
        if (!reported.has(name)) {
          const r = row(suite, name, null, mod.metrics[name]?.unit ?? 'msgs/s', null, mod.metrics[name], undefined);
          r.error = error ?? 'case reported no figure';
          results.push(r);
        }
      }
    }
    applyRatioTo(results.slice(first), mod.metrics);
  }
  return results;
}

/** Rows whose metric names a `ratioTo` figure: ratio = value / that figure (same run); baseline = that figure. */
function applyRatioTo(rows: Result[], metrics: Record<string, MetricInfo>): void {
  for (const r of rows) {
    const to = metrics[r.name]?.ratioTo;
    if (to === undefined || r.value === null) continue;
    const base = rows.find((x) => x.name === to);
    if (base !== undefined) base.inRunBaseline = true;
    if (base === undefined || base.value === null || base.value === 0) {
      r.ratio = null;
      r.baseline = null;
      continue;
    }
    r.baseline = base.value;
    r.ratio = r.value / base.value;
  }
}

function row(suite: string, name: string, value: number | null, unit: Unit, baseline: number | null, info: MetricInfo | undefined, runs: number[] | undefined): Result {
  const ratio = value !== null && baseline !== null && Number.isFinite(value) && info?.ratio !== false ? ratioOf(value, unit, baseline) : null;
  const r: Result = { suite, name, value, unit, baseline: ratio === null ? null : baseline, ratio };
  if (info?.target) r.target = info.target;
  if (info?.erlang !== undefined) r.erlang = info.erlang;
  if (runs) r.runs = runs;
  return r;
}

export function writeResults(results: Result[], file = defaultOut): string {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  return file;
}

// ---- the table ---------------------------------------------------------------

/** 36.2M, 230k, 0.913, 1.09: three significant digits, SI suffix for big numbers. */
export function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toPrecision(3) + 'G';
  if (a >= 1e6) return (v / 1e6).toPrecision(3) + 'M';
  if (a >= 1e4) return (v / 1e3).toPrecision(3) + 'k';
  if (a >= 100) return v.toFixed(0);
  if (a === 0) return '0';
  return v.toPrecision(3);
}

export function meetsTarget(r: Result): boolean | null {
  if (r.target === undefined || r.value === null) return null;
  return r.target.op === '>=' ? r.value >= r.target.value : r.value <= r.target.value;
}

export function formatTable(results: Result[]): string {
  const head = ['name', 'value', 'unit', 'target', 'Erlang', 'ratio', 'note'];
  const rows = results.map((r) => {
    const ok = meetsTarget(r);
    return [
      r.name,
      r.value === null ? 'FAILED' : fmt(r.value),
      r.unit,
      r.target ? `${r.target.op} ${fmt(r.target.value)}` : '',
      fmt(r.erlang),
      fmt(r.ratio),
      [r.inRunBaseline ? 'baseline' : '', ok === null ? '' : ok ? 'ok' : 'MISS', r.noise !== undefined && r.noise >= NOISY_CORES ? `noisy(${r.noise.toFixed(1)})` : ''].filter(Boolean).join(' '),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const left = new Set([0, 2, 6]);
  const line = (cells: string[]): string =>
    cells.map((c, i) => (left.has(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join('  ').trimEnd(), ...rows.map(line)];
  const failed = results.filter((r) => r.error !== undefined);
  for (const f of failed) out.push(`  ${f.name}: ${f.error!.split('\n')[0]}`);
  if (results.some((r) => r.noise !== undefined && r.noise >= NOISY_CORES)) {
    out.push(`  noisy(x): other processes used x CPU cores while that case ran; treat the figure as a lower bound`);
  }
  return out.join('\n');
}
