/**
 * The entry of `troupe node`'s bundle (dist/node.cjs): the node itself, and
 * the command line parsed inside the bundle, so that main.ts loads none of
 * the CLI's ES modules to start a node.
 */
import { parseArgs, type Command } from './args.js';
import { fail } from './fail.js';
import { runNode } from './node-cmd.js';

export { runNode };

/**
 * Runs `troupe <argv>` if it is a node this bundle can run, resolving to
 * the exit code; null for anything else (another command, `--help`, a node
 * with `--store`, whose stores load their own modules), which cli.ts runs.
 */
export function runNodeCommand(argv: readonly string[]): Promise<number> | null {
  let c: Command;
  try {
    c = parseArgs(argv);
  } catch (e) {
    return Promise.resolve(fail(e));
  }
  if (c.cmd !== 'node' || c.opts.store !== null) return null;
  return runNode(c.opts).catch(fail);
}
