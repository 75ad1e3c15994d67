/**
 * `troupe node` from dist/node.cjs, the bundle the build makes of
 * node-main.js and everything it imports, compiled with the V8 code cache
 * beside it. A node's start-up is then mostly Node's own: no module graph
 * to resolve and read, no source to compile (about a third of the CPU time
 * of a start from the ES modules).
 *
 * The cache is keyed by a hash of the bundle; V8 itself refuses a cache
 * made by another Node version or other flags. Without a usable cache the
 * bundle is compiled and, a second after the start (so that what the start
 * compiled is in it), the cache written: atomically, and a read-only install
 * simply goes without. The first start after a build writes it. Without the bundle (a build by `tsc` alone),
 * `loadNodeCommand` returns null and main.ts runs cli.ts, which imports node-cmd.js.
 */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import type { runNode } from './node-cmd.js';
import type { runNodeCommand } from './node-main.js';

export type RunNode = typeof runNode;
export type RunNodeCommand = typeof runNodeCommand;

const BUNDLE = fileURLToPath(new URL('./node.cjs', import.meta.url));
/** The cache file starts with the SHA-256 of the bundle it was made from. */
const DIGEST_BYTES = 32;

export interface LoadedBundle {
  runNode: RunNode;
  /** The bundle's command line (node-main.ts), if it has one. */
  runNodeCommand: RunNodeCommand | null;
  /** Whether V8 took the cache (else the bundle was compiled from source). */
  readonly cacheUsed: boolean;
  /** Writes `<bundle>.cache` (with the functions compiled so far) unless the one read was used. */
  saveCache(): void;
}

/** @internal `bundle` (a CommonJS file exporting `runNode`) with its cache, or null if there is none. */
export function loadBundle(bundle: string): LoadedBundle | null {
  const cache = `${bundle}.cache`;
  let src: string;
  try {
    src = readFileSync(bundle, 'utf8');
  } catch {
    return null;
  }
  const digest = createHash('sha256').update(src).digest();
  let cached: Buffer | undefined;
  try {
    const c = readFileSync(cache);
    if (c.subarray(0, DIGEST_BYTES).equals(digest)) cached = c.subarray(DIGEST_BYTES);
  } catch {
    // no cache yet
  }
  // CommonJS's own wrapper, so the bundle runs as `require` would run it.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${src}\n})`, {
    filename: bundle,
    ...(cached === undefined ? {} : { cachedData: cached }),
  });
  const module = { exports: {} as { runNode?: RunNode; runNodeCommand?: RunNodeCommand } };
  const wrapper = script.runInThisContext() as (e: object, r: NodeJS.Require, m: object, f: string, d: string) => void;
  wrapper(module.exports, createRequire(bundle), module, bundle, dirname(bundle));
  const run = module.exports.runNode;
  if (typeof run !== 'function') return null;
  const cacheUsed = cached !== undefined && script.cachedDataRejected !== true;
  const command = module.exports.runNodeCommand;
  return {
    runNode: run,
    runNodeCommand: typeof command === 'function' ? command : null,
    cacheUsed,
    saveCache: () => {
      if (cacheUsed) return;
      const tmp = `${cache}.${process.pid}.tmp`;
      try {
        writeFileSync(tmp, Buffer.concat([digest, script.createCachedData()]));
        renameSync(tmp, cache);
      } catch {
        rmSync(tmp, { force: true });
      }
    },
  };
}

/** ms after a start before the cache is written: by then the start's functions are compiled and in it. */
const SAVE_AFTER_MS = 1000;

/**
 * The bundle's command line (writing the cache a second after a start if it
 * had none), or null without a bundle. It returns null for what it does not
 * run (see `runNodeCommand`).
 */
export function loadNodeCommand(): RunNodeCommand | null {
  const b = loadBundle(BUNDLE);
  const command = b?.runNodeCommand ?? null;
  if (b === null || command === null) return null;
  return (argv) => {
    const started = command(argv);
    if (started !== null) setTimeout(b.saveCache, SAVE_AFTER_MS).unref();
    return started;
  };
}

/** For the build: whether the bundle evaluates (its modules' top level) and exports `runNode`. */
export function bundleLoads(): boolean {
  return loadBundle(BUNDLE) !== null;
}
