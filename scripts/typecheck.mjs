// Type-checks every package's sources and tests (tsconfig.test.json where a
// package has one): the build only checks sources, vitest checks nothing.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const dirs = ['packages', 'apps'].flatMap((d) => readdirSync(d).map((n) => join(d, n))).concat('bench', 'examples');
let failed = 0;
for (const dir of dirs) {
  const cfg = ['tsconfig.test.json', 'tsconfig.json'].map((f) => join(dir, f)).find((f) => existsSync(f));
  if (cfg === undefined) continue;
  const r = spawnSync('npx', ['tsc', '--noEmit', '-p', cfg], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.error(`typecheck failed: ${cfg}`);
  }
}
process.exit(failed > 0 ? 1 : 0);
