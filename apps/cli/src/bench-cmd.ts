/**
 * `troupe bench`: runs bench/'s suites through its runner (each case in its
 * own child process), shows progress, and writes bench-report/results.json,
 * report.md and throughput.svg. The root `bench` script runs this too.
 */
import { basename, dirname, resolve } from 'node:path';
import { USAGE_BENCH, UsageError, type BenchCliOptions } from './args.js';
import { currentMeta, writeReport } from './report.js';

/** How many cases a run will do (a suite's baseline always runs), for the progress counter. */
async function countCases(targets: readonly string[], suiteNames: readonly string[], load: (s: string) => Promise<{ cases: Record<string, unknown>; baseline: string }>): Promise<number> {
  const wanted = new Map<string, Set<string> | null>();
  for (const t of targets.length > 0 ? targets : suiteNames) {
    const [suite, c] = t.split('.');
    if (suite === undefined || !suiteNames.includes(suite)) continue; // the runner reports it
    const cur = wanted.get(suite);
    if (c === undefined || cur === null) wanted.set(suite, null);
    else wanted.set(suite, new Set([...(cur ?? []), c]));
  }
  let n = 0;
  for (const [suite, only] of wanted) {
    const mod = await load(suite);
    n += only === null ? Object.keys(mod.cases).length : 1 + [...only].filter((c) => c !== mod.baseline).length;
  }
  return n;
}

class Progress {
  private done = 0;
  private current: { name: string; at: number } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly t0 = performance.now();

  constructor(
    private readonly total: number,
    private readonly tty: boolean,
  ) {
    if (tty) this.timer = setInterval(() => this.draw(), 250);
  }

  line(text: string): void {
    const start = /^(\S+) \.\.\.$/.exec(text);
    const end = /^(\S+) done in ([\d.]+) s(.*)$/.exec(text);
    if (start !== null) {
      this.current = { name: start[1]!, at: performance.now() };
      if (!this.tty) process.stderr.write(`[${this.done + 1}/${this.total}] ${start[1]} ...\n`);
    } else if (end !== null) {
      this.done++;
      this.current = null;
      this.print(`[${this.done}/${this.total}] ${end[1]} ${end[2]} s${end[3]}`);
    } else {
      this.print(text);
    }
    this.draw();
  }

  private print(text: string): void {
    if (this.tty) process.stderr.write('\r\x1b[K');
    process.stderr.write(text + '\n');
  }

  private draw(): void {
    if (!this.tty) return;
    const width = 24;
    const filled = Math.round((this.done / Math.max(1, this.total)) * width);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    const cur = this.current === null ? '' : ` ${this.current.name} ${((performance.now() - this.current.at) / 1e3).toFixed(1)} s`;
    process.stderr.write(`\r\x1b[K[${bar}] ${this.done}/${this.total}${cur}  (total ${((performance.now() - this.t0) / 1e3).toFixed(0)} s)`);
  }

  end(): void {
    if (this.timer !== null) clearInterval(this.timer);
    if (this.tty) process.stderr.write('\r\x1b[K');
  }
}

export async function runBenchCommand(o: BenchCliOptions): Promise<number> {
  // Loaded here, not at start-up: `troupe node` should not need the bench package built.
  const bench = await import('@troupe/bench');
  if (o.list) {
    for (const name of Object.keys(bench.suites)) {
      const mod = await bench.loadSuite(name);
      for (const [c, bc] of Object.entries(mod.cases)) console.log(`${name}.${c}  ${bc.describe}`);
    }
    return 0;
  }
  // A bad suite or case name is a misuse (exit 2), caught before anything runs.
  for (const t of o.targets) {
    const [suite, c] = t.split('.');
    const known = Object.keys(bench.suites);
    if (suite === undefined || !known.includes(suite)) throw new UsageError(`unknown suite '${suite}' (known: ${known.join(', ')})`, USAGE_BENCH);
    const cases = Object.keys((await bench.loadSuite(suite)).cases);
    if (c !== undefined && !cases.includes(c)) throw new UsageError(`suite '${suite}' has no case '${c}' (cases: ${cases.join(', ')})`, USAGE_BENCH);
  }
  const out = o.out === null ? bench.defaultOut : resolve(o.out);
  const total = await countCases(o.targets, Object.keys(bench.suites), bench.loadSuite);
  const progress = new Progress(total, process.stderr.isTTY === true);
  const t0 = performance.now();
  let results;
  try {
    results = await bench.runBench({
      targets: o.targets,
      quick: o.quick,
      quietWaitMs: (o.waitS ?? (o.quick ? 0 : 60)) * 1e3,
      profileDir: o.prof ? resolve(bench.repoRoot, 'bench-report', 'prof') : null,
      log: (line) => progress.line(line),
    });
  } finally {
    progress.end();
  }
  const durationS = (performance.now() - t0) / 1e3;
  const files = writeReport(results, dirname(out), currentMeta(o.quick, durationS), basename(out));
  console.log(`\n${bench.formatTable(results)}\n`);
  console.log(`${results.length} figures in ${durationS.toFixed(1)} s${o.quick ? ' (quick)' : ''}`);
  console.log(`wrote ${files.report}\n      ${files.results}\n      ${files.svg}`);
  return results.some((r) => r.error !== undefined) ? 1 : 0;
}
