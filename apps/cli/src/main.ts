#!/usr/bin/env node
/**
 * `troupe <command>` (cli.ts). `troupe node` starts from its bundle without
 * the CLI's ES modules: Node 20 compiles those from source on every start,
 * ~10 ms of a node's ~100. The bundle's loader is CommonJS (node-loader.cjs,
 * made by the build from node-bundle.ts) and the bundle parses the
 * arguments itself. A node given `--store` (any value), a build without the
 * bundle, and every other command load cli.ts.
 */
import { createRequire } from 'node:module';
import type { loadNodeCommand } from './node-bundle.js';

function bundledNode(argv: readonly string[]): Promise<number> | null {
  if (argv[0] !== 'node' || argv.some((a) => a === '--store' || a.startsWith('--store='))) return null;
  let load: typeof loadNodeCommand;
  try {
    ({ loadNodeCommand: load } = createRequire(import.meta.url)('./node-loader.cjs') as { loadNodeCommand: typeof loadNodeCommand });
  } catch {
    return null; // no bundle: a build by tsc alone, or run from the sources
  }
  return load()?.(argv) ?? null;
}

const started = bundledNode(process.argv.slice(2));
if (started !== null) void started.then((code) => process.exit(code));
else await import('./cli.js');
