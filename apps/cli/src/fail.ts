import { UsageError } from './args.js';

/** Prints why the command failed and returns its exit code: 2 with the usage for a usage error, else 1. */
export function fail(e: unknown): number {
  if (e instanceof UsageError) {
    process.stderr.write(`troupe: ${e.message}\n${e.usage}\n`);
    return 2;
  }
  process.stderr.write(`troupe: ${e instanceof Error ? e.message : String(e)}\n`);
  return 1;
}
