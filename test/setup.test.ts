// scripts/setup.mjs decides from hashes what to install and build: nothing
// when nothing changed, and exactly the changed package and its dependents
// otherwise. Checked on a throwaway workspace (no tool is run).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { plan, record } from '../scripts/setup.mjs';

interface Plan {
  install: string | null;
  build: { name: string; reason: string }[];
}
const planOf = plan as (root: string) => Plan;
const recordOf = record as (root: string, p: Plan, built: string[]) => void;

let root: string;
const write = (path: string, text: string): void => {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), text);
};
const pkg = (dir: string, name: string, deps: string[] = []): void => {
  write(`${dir}/package.json`, JSON.stringify({ name, scripts: { build: 'tsc' }, dependencies: Object.fromEntries(deps.map((d) => [d, 'workspace:*'])) }));
  write(`${dir}/tsconfig.json`, '{}');
  write(`${dir}/src/index.ts`, `export const name = '${name}';`);
  write(`${dir}/dist/index.js`, '');
};
/** Setup as if it had just installed and built everything. */
const settle = (): void => {
  const p = planOf(root);
  recordOf(root, p, p.build.map((b) => b.name));
};

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'troupe-setup-'));
  write('pnpm-workspace.yaml', 'packages:\n  - packages/*\n  - app\n');
  write('pnpm-lock.yaml', 'lockfileVersion: 9.0\n');
  write('package.json', '{}');
  write('tsconfig.base.json', '{}');
  write('node_modules/.pnpm/lock.yaml', '');
  pkg('packages/core', '@x/core');
  pkg('packages/net', '@x/net', ['@x/core']);
  pkg('packages/other', '@x/other');
  pkg('app', '@x/app', ['@x/net']);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const names = (p: Plan): string[] => p.build.map((b) => b.name);

describe('setup plan', () => {
  it('a fresh checkout installs and builds everything, dependencies first', () => {
    const p = planOf(root);
    expect(p.install).toBe('no record of the last install');
    expect(names(p).indexOf('@x/core')).toBeLessThan(names(p).indexOf('@x/net'));
    expect(names(p).indexOf('@x/net')).toBeLessThan(names(p).indexOf('@x/app'));
    expect(names(p).sort()).toEqual(['@x/app', '@x/core', '@x/net', '@x/other']);
  });

  it('nothing changed: nothing to do', () => {
    settle();
    expect(planOf(root)).toMatchObject({ install: null, build: [] });
  });

  it('a changed source rebuilds its package and its dependents, not the others', () => {
    settle();
    write('packages/net/src/index.ts', 'export const changed = 1;');
    expect(planOf(root).build).toEqual([
      expect.objectContaining({ name: '@x/net', reason: 'its sources changed' }),
      expect.objectContaining({ name: '@x/app', reason: '@x/net is rebuilt' }),
    ]);
    expect(planOf(root).install).toBeNull();
  });

  it('a removed dist/ rebuilds that package', () => {
    settle();
    rmSync(join(root, 'packages/other/dist'), { recursive: true });
    expect(planOf(root).build).toEqual([expect.objectContaining({ name: '@x/other', reason: 'no dist/' })]);
  });

  it('a changed lockfile installs again and rebuilds everything', () => {
    settle();
    write('pnpm-lock.yaml', 'lockfileVersion: 9.0\n# changed\n');
    const p = planOf(root);
    expect(p.install).toBe('pnpm-lock.yaml or a package.json changed');
    expect(names(p)).toHaveLength(4);
    expect(p.build.find((b) => b.name === '@x/core')!.reason).toBe('the installed dependencies changed');
  });

  it('a removed node_modules installs again', () => {
    settle();
    rmSync(join(root, 'node_modules'), { recursive: true });
    expect(planOf(root).install).toBe('node_modules is not installed');
  });
});
