// The publishable packages as a user gets them: `pnpm pack` of each holds
// only what is meant to ship (package.json, README, dist) with no workspace
// dependency left, and the tarballs installed into an empty project (their
// own dependencies from the npm registry) run README examples there.
// Needs the packages and examples built (`npm test` sets up first).
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../', import.meta.url));
/** Examples that use only the publishable packages, and what each prints last. */
const RUN = { 'two-nodes': '1', 'registry-pubsub': "b got { text: 'hello' }" };

interface Manifest {
  name: string;
  private?: boolean;
  exports?: Record<string, { types: string; default: string } | null>;
  dependencies?: Record<string, string>;
}

const publishable = readdirSync(join(repo, 'packages'))
  .map((d) => join(repo, 'packages', d))
  .filter((dir) => {
    const m = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
    return m.private !== true;
  });

const work = mkdtempSync(join(tmpdir(), 'troupe-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('packed packages', () => {
  const tarballs: string[] = [];

  it('are actor-core, persistence, registry-crdt and transport-ws', () => {
    expect(publishable.map((d) => d.split('/').pop()).sort()).toEqual(['actor-core', 'persistence', 'registry-crdt', 'transport-ws']);
  });

  for (const dir of publishable) {
    const name = dir.split('/').pop()!;
    it(`${name}: the tarball holds package.json, README.md and dist only, every export's files, no workspace: dependency`, () => {
      const out = execFileSync('npx', ['-y', 'pnpm@10', 'pack', '--pack-destination', work], { cwd: dir, encoding: 'utf8' });
      const tgz = out.trim().split('\n').pop()!.trim();
      expect(existsSync(tgz)).toBe(true);
      tarballs.push(tgz);
      const files = execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8' }).trim().split('\n').map((f) => f.replace(/^package\//, ''));
      const outside = files.filter((f) => f !== 'package.json' && f !== 'README.md' && !f.startsWith('dist/'));
      expect(outside).toEqual([]);
      expect(files.filter((f) => /(^|\/)(test|__tests__)\/|\.test\.|\.tsbuildinfo$/.test(f))).toEqual([]);
      const manifest = JSON.parse(execFileSync('tar', ['-xzOf', tgz, 'package/package.json'], { encoding: 'utf8' })) as Manifest;
      // A null target hides a path (`"./internal/*": null`): nothing to ship for it.
      for (const target of Object.values(manifest.exports ?? {})) {
        if (target === null) continue;
        expect(files).toContain(target.default.replace(/^\.\//, ''));
        expect(files).toContain(target.types.replace(/^\.\//, ''));
      }
      expect(Object.values(manifest.dependencies ?? {}).filter((v) => v.startsWith('workspace:'))).toEqual([]);
    }, 60_000);
  }

  it('install into an empty project, which then runs README examples', () => {
    expect(tarballs).toHaveLength(publishable.length);
    // What the examples below import; persistence's native SQLite build is
    // minutes of compiling here and its own tests already load it.
    const needed = tarballs.filter((t) => !/persistence/.test(t));
    const project = join(work, 'app');
    mkdirSync(project, { recursive: true });
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...needed], { cwd: project, stdio: 'pipe' });
    for (const [example, last] of Object.entries(RUN)) {
      // The example as built from examples/src: plain ES modules importing @troupe/*.
      copyFileSync(join(repo, 'examples', 'dist', `${example}.js`), join(project, `${example}.js`));
      const r = spawnSync(process.execPath, [`${example}.js`], { cwd: project, encoding: 'utf8', timeout: 20_000 });
      // stderr has the node's log lines; shown only when the example failed.
      expect({ example, status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ example, status: 0, stderr: '' });
      expect(r.stdout.trim().split('\n').at(-1)).toBe(last);
    }
  }, 120_000);
});
