// Build step of @troupe/cli (after tsc): `troupe node`'s code as one CommonJS
// file, dist/node.cjs (src/node-bundle.ts loads it with a V8 code cache).
//
// Why: a node spends most of its start-up loading ~180 ES modules (resolving,
// reading, compiling them); a cluster on one host starts many nodes at once.
// One file with its bytecode cached skips the resolving and the compiling;
// main.js loads it through `node-loader.cjs` (node-bundle.js as CommonJS) and
// falls back to the ES modules when it is absent or stale.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'node.cjs');

// Packages with native code stay out of the bundle and are required from where the install put
// them (resolved from the module that asks for them), so they behave as they do without it.
const NATIVE = /^(bufferutil|utf-8-validate|msgpackr-extract)$/;
const fromImporter = (name, dir) => {
  try {
    return createRequire(join(dir, 'noop.js')).resolve(name);
  } catch {
    return null; // an optional dependency that is not installed: the library's own fallback applies
  }
};

// The addon file itself for the two a node loads at start. Their loaders (node-gyp-build and
// node-gyp-build-optional-packages, with detect-libc) find it among the installed prebuilds on every
// require: ~25 ms of a node's ~100 ms start for msgpackr-extract, ~7 ms for bufferutil. The build
// runs on the machine that runs the bundle (`npm run setup`), so it finds the file once, here. An
// addon that no longer loads (another Node ABI, a new install) throws where the library expects a
// missing one, and it falls back to its JavaScript as it would have.
const LOADERS = { 'msgpackr-extract': 'node-gyp-build-optional-packages', bufferutil: 'node-gyp-build' };
const addonFile = (name, importerDir) => {
  const index = fromImporter(name, importerDir);
  if (index === null || !(name in LOADERS)) return null;
  try {
    return createRequire(index)(LOADERS[name]).path(dirname(index));
  } catch {
    return null;
  }
};

// One CommonJS file for Node 20. `import.meta.url` of the bundled modules: the bundle's own
// (createRequire('pino-pretty') resolves from apps/cli).
const asCommonJs = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  define: { 'import.meta.url': '__bundle_url' },
  banner: { js: "const __bundle_url = require('node:url').pathToFileURL(__filename).href;" },
};

await build({
  ...asCommonJs,
  entryPoints: [join(root, 'dist', 'node-main.js')],
  outfile: out,
  // The durable stores run only on the ES-module path (main.js does not use the bundle with --store).
  external: ['pino-pretty', '@troupe/persistence/sqlite', '@troupe/persistence/postgres', 'better-sqlite3', 'pg'],
  plugins: [
    {
      name: 'native-from-install',
      setup(b) {
        b.onResolve({ filter: NATIVE }, (a) => ({ path: addonFile(a.path, a.resolveDir) ?? fromImporter(a.path, a.resolveDir) ?? a.path, external: true }));
      },
    },
  ],
});

// The bundle's loader as CommonJS too, so that main.js can start a node without loading ES modules
// (Node 20 compiles those from source on every start).
await build({ ...asCommonJs, entryPoints: [join(root, 'dist', 'node-bundle.js')], outfile: join(root, 'dist', 'node-loader.cjs') });

// Evaluated once here, so that a bundle that cannot start fails the build, not a node.
// (Its code cache is written by the first start, with what that start compiled: src/node-bundle.ts.)
rmSync(`${out}.cache`, { force: true });
const { bundleLoads } = await import(pathToFileURL(join(root, 'dist', 'node-bundle.js')).href);
if (!bundleLoads()) throw new Error(`${out}: the bundle does not export runNode`);
