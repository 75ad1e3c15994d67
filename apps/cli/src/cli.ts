/**
 * `troupe <command>`: node, cluster, bench, observe (main.ts loads this
 * unless `troupe node` started from its bundle). Usage errors print one line
 * and the usage and exit 2; other failures print one line and exit 1.
 */
import { readFileSync } from 'node:fs';
import { parseArgs, type Command } from './args.js';
import { fail } from './fail.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

async function run(c: Command): Promise<number> {
  switch (c.cmd) {
    case 'help':
      console.log(c.text);
      return 0;
    case 'version':
      console.log(`troupe ${version()}`);
      return 0;
    // Each command is loaded on demand: `troupe bench` needs the bench package, the others do not.
    // A node reaches here only from its ES modules: with `--store`, or without the bundle (main.ts).
    case 'node':
      return (await import('./node-cmd.js')).runNode(c.opts);
    case 'cluster':
      return (await import('./cluster-cmd.js')).runCluster(c.opts);
    case 'bench':
      return (await import('./bench-cmd.js')).runBenchCommand(c.opts);
  }
}

// `troupe bench --list | head`: a closed pipe ends the command quietly, not with a stack trace.
// (`troupe node` handles it itself: a node whose reader went away keeps serving.)
const onStdoutError = (e: NodeJS.ErrnoException): void => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
};
if (process.argv[2] !== 'node') process.stdout.on('error', onStdoutError);

let command: Command | null = null;
// `troupe observe` parses its own arguments (observe-cmd.ts).
if (process.argv[2] === 'observe') {
  import('./observe-cmd.js').then((m) => m.runObserve(process.argv.slice(3))).then((code) => process.exit(code), (e: unknown) => process.exit(fail(e)));
} else try {
  command = parseArgs(process.argv.slice(2));
} catch (e) {
  process.exitCode = fail(e);
}
if (command !== null) {
  run(command).then(
    (code) => process.exit(code),
    (e: unknown) => process.exit(fail(e)),
  );
}
