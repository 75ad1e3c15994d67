import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLValidator } from 'fast-xml-parser';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { killAll, startCli, within } from './cli-process.js';

// The bench runner starts its cases from bench/dist. `npm test`'s setup step
// builds it; a run of this file alone builds it (and what it imports) first.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const benchChild = join(root, 'bench/dist/child.js');
const dir = mkdtempSync(join(tmpdir(), 'troupe-bench-'));
beforeAll(() => {
  if (!existsSync(benchChild)) execFileSync('npx', ['-y', 'pnpm@10', '--filter', '@troupe/bench...', 'build'], { cwd: root, stdio: 'inherit' });
  expect(existsSync(benchChild), `${benchChild} after the build`).toBe(true);
}, 300_000);
afterEach(() => killAll());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('troupe bench --quick local.oneway: progress, then results.json, report.md and throughput.svg', async () => {
  const out = join(dir, 'results.json');
  const p = startCli(['bench', '--quick', 'local.oneway', '--out', out]);
  const { code } = await within(p.exited, 60_000, 'bench exit');
  expect(code, p.lines.join('\n')).toBe(0);
  // Progress (not a terminal here: one line per case start and end).
  expect(p.stderr).toContain('[1/2] local.baseline ...');
  expect(p.stderr.some((l) => /^\[2\/2\] local\.oneway [\d.]+ s/.test(l))).toBe(true);
  const results = JSON.parse(readFileSync(out, 'utf8')) as { name: string; value: number | null }[];
  expect(results.map((r) => r.name)).toEqual(['local.baseline', 'local.oneway']);
  expect(results.every((r) => typeof r.value === 'number' && r.value > 0)).toBe(true);
  const md = readFileSync(join(dir, 'report.md'), 'utf8');
  expect(md).toMatch(/^\| local\.oneway \| [\d.]+[kM]? \| msgs\/s \| [\d.]+ \|/m);
  const svg = readFileSync(join(dir, 'throughput.svg'), 'utf8');
  expect(XMLValidator.validate(svg)).toBe(true);
  expect(svg).toContain('local.oneway (msgs/s)');
});

it('troupe bench with an unknown suite or case: one line, exit 2, nothing run', async () => {
  const a = startCli(['bench', 'nosuch']);
  const b = startCli(['bench', 'local.nosuch']);
  expect((await within(a.exited, 15_000, 'exit')).code).toBe(2);
  expect(a.stderr[0]).toMatch(/^troupe: unknown suite 'nosuch' \(known: .*local/);
  expect((await within(b.exited, 15_000, 'exit')).code).toBe(2);
  expect(b.stderr[0]).toMatch(/^troupe: suite 'local' has no case 'nosuch' \(cases: baseline, /);
});

it('troupe bench --json: stdout is one JSON document with the run, the results and the files', async () => {
  const out = join(dir, 'json', 'results.json');
  const p = startCli(['bench', '--quick', 'local.oneway', '--out', out, '--json']);
  const { code } = await within(p.exited, 60_000, 'bench exit');
  expect(code, p.lines.join('\n')).toBe(0);
  const doc = JSON.parse(p.stdout.join('\n')) as { run: { quick: boolean }; results: { name: string; inRunBaseline?: boolean }[]; files: { results: string } };
  expect(doc.run.quick).toBe(true);
  expect(doc.results.map((r) => [r.name, r.inRunBaseline ?? false])).toEqual([
    ['local.baseline', true],
    ['local.oneway', false],
  ]);
  expect(doc.files.results).toBe(out);
  expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(doc.results);
});
