// Every example runs as its own process and must exit 0 by itself, within a
// bound; and every README block marked as an example is that file's text.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { exited, killAfter, onLines } from '@troupe/child-process';

const here = new URL('./', import.meta.url);
const repo = fileURLToPath(new URL('../../', here));
const srcDir = fileURLToPath(new URL('../src/', here));
const tsconfig = fileURLToPath(new URL('../tsconfig.test.json', here));
const tsx = createRequire(import.meta.url).resolve('tsx');

/**
 * How long an example may take, start-up included (they run concurrently,
 * each compiled by tsx): each ends its work and then exits because nothing
 * it started is left (no timer, socket or process).
 */
const BOUND_MS = 15_000;

const names = readdirSync(srcDir)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3));

describe('examples', () => {
  it('the README blocks are the example files (node scripts/readme-examples.mjs rewrites them)', () => {
    const r = spawnSync(process.execPath, ['scripts/readme-examples.mjs', '--check'], { cwd: repo, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('there are examples', () => {
    expect(names.length).toBeGreaterThan(5);
  });

  for (const name of names) {
    it.concurrent(`${name} exits 0 by itself`, async () => {
      const child = spawn(process.execPath, ['--import', tsx, `${srcDir}${name}.ts`], {
        cwd: repo,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig, FORCE_COLOR: '0' },
      });
      const output: string[] = [];
      onLines(child.stdout!, (l) => output.push(l));
      onLines(child.stderr!, (l) => output.push(l));
      const cancel = killAfter(child, BOUND_MS);
      const exit = await exited(child);
      cancel();
      expect({ exit, output: exit.code === 0 ? [] : output }).toEqual({ exit: { code: 0, signal: null }, output: [] });
    }, BOUND_MS + 5_000);
  }
});
