/**
 * `troupe bench`: runs bench/'s suites through its runner (each case in its
 * own child process), shows progress, and writes bench-report/results.json,
 * report.md and throughput.svg. The root `bench` script runs this too.
 */
import { basename, dirname, resolve } from 'node:path';
import { USAGE_BENCH, UsageError, type BenchCliOptions } from './args.js';

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

/** The bench package: part of a Troupe checkout, not of an installed CLI (it brings the test harness). */
async function loadBench(): Promise<typeof import('@troupe/bench')> {
  try {
    return await import('@troupe/bench');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND' || !String((e as Error).message).includes('@troupe/bench')) throw e;
    throw new Error('bench runs only from a Troupe source checkout (@troupe/bench is not installed here)');
  }
}

export async function runBenchCommand(o: BenchCliOptions): Promise<number> {
  // Loaded here, not at start-up: `troupe node` and `troupe cluster` do not need the bench package.
  const bench = await loadBench();
  if (o.list) {
    const cases: { case: string; describe: string }[] = [];
    for (const name of Object.keys(bench.suites)) {
      const mod = await bench.loadSuite(name);
      for (const [c, bc] of Object.entries(mod.cases)) cases.push({ case: `${name}.${c}`, describe: bc.describe });
    }
    if (o.json) console.log(JSON.stringify(cases, null, 2));
    else for (const c of cases) console.log(`${c.case}  ${c.describe}`);
    return 0;
  }
  // A bad suite or case name is a misuse (exit 2), caught before anything runs.
  let planned;
  try {
    planned = await bench.plan(o.targets);
  } catch (e) {
    if (e instanceof bench.UnknownTargetError) throw new UsageError(e.message, USAGE_BENCH);
    throw e;
  }
  const total = planned.reduce((n, s) => n + s.cases.length, 0);
  const out = o.out === null ? bench.defaultOut : resolve(o.out);
  const progress = new Progress(total, process.stderr.isTTY === true);
  // Ctrl-C: the progress line is erased (not left with ^C and half a bar) and the cases' children end with us.
  const onInterrupt = (): void => {
    progress.end();
    process.stderr.write('troupe bench: interrupted\n');
    process.exit(130);
  };
  process.once('SIGINT', onInterrupt);
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
    process.off('SIGINT', onInterrupt);
  }
  const durationS = (performance.now() - t0) / 1e3;
  const meta = bench.currentMeta(o.quick, durationS);
  const files = bench.writeReport(results, dirname(out), meta, basename(out));
  if (o.json) {
    console.log(JSON.stringify({ run: meta, results, files }, null, 2));
    return results.some((r) => r.error !== undefined) ? 1 : 0;
  }
  console.log(`\n${bench.formatTable(results)}\n`);
  console.log(`${results.length} figures in ${durationS.toFixed(1)} s${o.quick ? ' (quick)' : ''}`);
  console.log(`wrote ${files.report}\n      ${files.results}\n      ${files.svg}`);
  return results.some((r) => r.error !== undefined) ? 1 : 0;
}
