/**
 * Runs one case in a fresh process: `node --expose-gc child.js <suite> <case> [--quick]`.
 * Each figure goes to stdout as one line `BENCH_FIGURE {json}`; anything else
 * on stdout/stderr is the case's own noise and is passed through by the runner.
 */
import { loadSuite } from './suites/index.js';
import { BASELINE_PREFIX, CPU_PREFIX, FIGURE_PREFIX, median, type CaseContext, type Figure } from './harness.js';

async function main(): Promise<void> {
  const [suiteName, caseName, ...flags] = process.argv.slice(2);
  if (suiteName === undefined || caseName === undefined) throw new Error('usage: child.js <suite> <case> [--quick]');
  const quick = flags.includes('--quick');
  const suite = await loadSuite(suiteName);
  const c = suite.cases[caseName];
  if (c === undefined) throw new Error(`suite '${suiteName}' has no case '${caseName}'`);
  let helperCpu = 0;
  const ctx: CaseContext = {
    quick,
    runs: quick ? 3 : 5,
    n: (full, quickDivisor = 10) => (quick ? Math.max(1, Math.floor(full / quickDivisor)) : full),
    report: (f: Figure) => {
      process.stdout.write(FIGURE_PREFIX + JSON.stringify(f) + '\n');
    },
    addCpu: (micros: number) => {
      helperCpu += micros;
    },
  };
  if (suite.probe !== undefined && caseName !== suite.baseline) {
    // One warm-up, median of three: ~0.2 s, and the case's own warm-up follows anyway.
    const n = suite.probeN ?? 1_000_000;
    suite.probe(n);
    const rates = [0, 1, 2].map(() => n / suite.probe!(n));
    process.stdout.write(BASELINE_PREFIX + String(median(rates)) + '\n');
  }
  await c.run(ctx);
  // The runner subtracts this from the machine's busy time to see what other processes took.
  const cpu = process.cpuUsage();
  process.stdout.write(CPU_PREFIX + String(cpu.user + cpu.system + helperCpu) + '\n');
}

main().then(
  // Exit explicitly: a case may leave timers or processes behind, and the figures are out.
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench case failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
