// `npm run setup` (and so `npm start`, `npm test`, `npm run demo`, `npm run
// bench`, `npm run example`): installs and builds only what changed, and says
// what it does and why; when nothing changed it runs no tool at all.
//
// Install: skipped while pnpm-lock.yaml, pnpm-workspace.yaml and every
// workspace package.json hash to what the last successful install recorded
// and node_modules still holds pnpm's record of it.
// Build: a package is rebuilt when the hash of its inputs (src/, scripts/, its
// tsconfig.json and package.json, the root tsconfig.base.json, the install)
// differs from the last successful build's, or its dist/ is missing; the
// packages that depend on it are rebuilt with it (their types come from its
// dist). The hashes live in node_modules/.troupe-setup.json, so a fresh
// clone or a removed node_modules sets up from scratch.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const PNPM = ['-y', 'pnpm@10'];
const STAMP = join('node_modules', '.troupe-setup.json');

function hashFiles(root, paths) {
  const h = createHash('sha256');
  for (const p of paths) {
    h.update(relative(root, p));
    h.update('\0');
    h.update(existsSync(p) ? readFileSync(p) : '(absent)');
    h.update('\0');
  }
  return h.digest('hex');
}

function walk(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

/** The workspace's packages (pnpm-workspace.yaml's `- dir` and `- dir/*` lines), with their workspace dependencies. */
export function workspacePackages(root) {
  const globs = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8')
    .split('\n')
    .map((l) => /^\s+-\s+['"]?([^'"\s]+)['"]?\s*$/.exec(l)?.[1])
    .filter((g) => g !== undefined);
  const dirs = globs.flatMap((g) => {
    if (!g.endsWith('/*')) return [join(root, g)];
    const parent = join(root, g.slice(0, -2));
    return existsSync(parent) ? readdirSync(parent).sort().map((d) => join(parent, d)) : [];
  });
  return dirs
    .filter((d) => existsSync(join(d, 'package.json')))
    .map((dir) => {
      const m = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      const all = { ...m.dependencies, ...m.devDependencies };
      return {
        dir,
        name: m.name,
        buildable: typeof m.scripts?.build === 'string',
        deps: Object.keys(all).filter((d) => String(all[d]).startsWith('workspace:')),
      };
    });
}

function installHash(root, pkgs) {
  return hashFiles(root, [join(root, 'pnpm-lock.yaml'), join(root, 'pnpm-workspace.yaml'), join(root, 'package.json'), ...pkgs.map((p) => join(p.dir, 'package.json'))]);
}

function buildHash(root, pkg, install) {
  const inputs = [...walk(join(pkg.dir, 'src')), ...walk(join(pkg.dir, 'scripts')), join(pkg.dir, 'tsconfig.json'), join(pkg.dir, 'package.json'), join(root, 'tsconfig.base.json')];
  return `${install.slice(0, 16)}:${hashFiles(root, inputs)}`;
}

function readStamp(root) {
  try {
    return JSON.parse(readFileSync(join(root, STAMP), 'utf8'));
  } catch {
    return { install: null, builds: {} };
  }
}

/**
 * What setup would do now: `install` is null or the reason to install;
 * `build` lists the packages to build, each with its reason, in dependency order.
 */
export function plan(root) {
  const pkgs = workspacePackages(root);
  const stamp = readStamp(root);
  const install = installHash(root, pkgs);
  let installReason = null;
  if (!existsSync(join(root, 'node_modules', '.pnpm', 'lock.yaml'))) installReason = 'node_modules is not installed';
  else if (stamp.install !== install) installReason = stamp.install === null ? 'no record of the last install' : 'pnpm-lock.yaml or a package.json changed';

  const byName = new Map(pkgs.map((p) => [p.name, p]));
  const reasons = new Map();
  for (const p of pkgs) {
    if (!p.buildable) continue;
    const dist = join(p.dir, 'dist');
    if (!existsSync(dist) || readdirSync(dist).length === 0) reasons.set(p.name, 'no dist/');
    else {
      const was = stamp.builds[p.name];
      const now = buildHash(root, p, install);
      if (was === undefined) reasons.set(p.name, 'no record of its last build');
      else if (was !== now) reasons.set(p.name, was.split(':')[1] === now.split(':')[1] ? 'the installed dependencies changed' : 'its sources changed');
    }
  }
  // Dependency order, and a package's dependents are rebuilt with it.
  const ordered = [];
  const seen = new Set();
  const visit = (p) => {
    if (seen.has(p.name)) return;
    seen.add(p.name);
    for (const d of p.deps) if (byName.has(d)) visit(byName.get(d));
    ordered.push(p);
  };
  for (const p of pkgs) visit(p);
  const build = [];
  for (const p of ordered) {
    if (!p.buildable) continue;
    const dep = p.deps.find((d) => build.some((b) => b.name === d));
    const reason = reasons.get(p.name) ?? (dep === undefined ? null : `${dep} is rebuilt`);
    if (reason !== null) build.push({ name: p.name, dir: p.dir, reason });
  }
  return { install: installReason, build, installHash: install, packages: pkgs };
}

/** Records a successful install and the builds of `built` (package names). */
export function record(root, p, built) {
  const stamp = readStamp(root);
  stamp.install = p.installHash;
  for (const pkg of p.packages) if (built.includes(pkg.name)) stamp.builds[pkg.name] = buildHash(root, pkg, p.installHash);
  writeFileSync(join(root, STAMP), JSON.stringify(stamp, null, 2));
}

function run(root, args, what) {
  const t0 = Date.now();
  const r = spawnSync('npx', [...PNPM, ...args], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`setup: ${what} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
  return Date.now() - t0;
}

function main() {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  let p = plan(root);
  if (p.install !== null) {
    console.log(`setup: installing dependencies (${p.install}) ...`);
    const ms = run(root, ['install', '--frozen-lockfile', '--reporter=append-only'], 'install');
    console.log(`setup: installed in ${(ms / 1000).toFixed(1)} s`);
    record(root, p, []);
    p = plan(root); // an install can change what needs building
  }
  if (p.build.length > 0) {
    for (const b of p.build) console.log(`setup: building ${b.name} (${b.reason})`);
    const filters = p.build.flatMap((b) => ['--filter', b.name]);
    const ms = run(root, [...filters, '--reporter=append-only', 'run', 'build'], 'build');
    console.log(`setup: built ${p.build.length} package(s) in ${(ms / 1000).toFixed(1)} s`);
    record(root, p, p.build.map((b) => b.name));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
