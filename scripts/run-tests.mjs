// Type-checks, runs every test project with vitest, and prints the whole-run totals as one
// plain line, `N passed, N failed`; exits non-zero on any failure.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, existsSync } from 'node:fs';

// Types first (sources and tests): a type error is a failure like any other.
const types = spawnSync('node', ['scripts/typecheck.mjs'], { stdio: 'inherit' });
const typeFailures = types.status === 0 ? 0 : 1;

const out = '.vitest-results.json';
rmSync(out, { force: true });
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...process.argv.slice(2)];
const r = spawnSync('npx', args, { stdio: 'inherit', env: { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? '0' } });
let passed = 0;
let failed = 0;
if (existsSync(out)) {
  const res = JSON.parse(readFileSync(out, 'utf8'));
  passed = res.numPassedTests ?? 0;
  failed = (res.numFailedTests ?? 0) + (res.numRuntimeErrorTestSuites ?? 0);
  if (res.numFailedTestSuites && failed === 0) failed = res.numFailedTestSuites;
} else {
  failed = 1;
}
if (r.status !== 0 && failed === 0) failed = 1;
failed += typeFailures;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
