/**
 * `npm run bench -- [suite | suite.case ...] [--quick] [--prof] [--out file] [--list]`
 * Runs the suites, prints the table, writes bench-report/results.json.
 */
import { resolve } from 'node:path';
import { defaultOut, formatTable, repoRoot, runBench, writeResults } from './runner.js';
import { loadSuite, suites } from './suites/index.js';

const USAGE = `usage: npm run bench -- [suite|suite.case ...] [--quick] [--prof] [--out file] [--list]
  suite        one of: ${Object.keys(suites).join(', ')} (default: all)
  suite.case   one case, e.g. local.oneway (the suite's baseline always runs too)
  --quick      N scaled down (about 1/10) and 3 runs: every suite in under a minute
  --prof       write a CPU profile of each case to bench-report/prof/
  --out file   where results.json goes (default: bench-report/results.json)
  --wait s     before each case wait up to s seconds for other processes to go quiet
               (default 60, quick 0); figures taken while others were busy are marked noisy
  --list       list the cases and exit`;

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const targets: string[] = [];
  let quick = false;
  let prof = false;
  let list = false;
  let out = defaultOut;
  let wait: number | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') quick = true;
    else if (a === '--prof') prof = true;
    else if (a === '--list') list = true;
    else if (a === '--out') out = resolve(argv[++i] ?? '');
    else if (a === '--wait') wait = Number(argv[++i]);
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      return 0;
    } else if (a.startsWith('-')) {
      console.error(`unknown option ${a}\n${USAGE}`);
      return 2;
    } else targets.push(a);
  }
  if (list) {
    for (const name of Object.keys(suites)) {
      const mod = await loadSuite(name);
      for (const [c, bc] of Object.entries(mod.cases)) console.log(`${name}.${c}  ${bc.describe}`);
    }
    return 0;
  }
  const t0 = performance.now();
  const results = await runBench({
    targets,
    quick,
    quietWaitMs: (wait ?? (quick ? 0 : 60)) * 1e3,
    profileDir: prof ? resolve(repoRoot, 'bench-report', 'prof') : null,
    log: (line) => console.error(line),
  });
  const file = writeResults(results, out);
  console.log(`\n${formatTable(results)}\n`);
  console.log(`ratio: rates ÷ baseline msgs/s (higher is better); times × baseline msgs/s = bare dispatches per op (lower is better)`);
  console.log(`${results.length} figures in ${((performance.now() - t0) / 1e3).toFixed(1)} s${quick ? ' (quick)' : ''} → ${file}`);
  return results.some((r) => r.error !== undefined) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(2);
  },
);
