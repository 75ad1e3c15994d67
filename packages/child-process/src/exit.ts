import type { ChildProcess } from 'node:child_process';

/** How a child process ended. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Resolves when `child` has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<ChildExit> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/**
 * Sends `signal` (default SIGKILL) to `child` if it is still running after
 * `ms`. Returns a cancel function; the timer also ends when the child exits,
 * and never keeps this process alive.
 */
export function killAfter(child: ChildProcess, ms: number, signal: NodeJS.Signals = 'SIGKILL'): () => void {
  const timer = setTimeout(() => child.kill(signal), ms);
  timer.unref();
  const cancel = (): void => clearTimeout(timer);
  child.once('exit', cancel);
  return cancel;
}

/** True if an OS process with this pid exists (a zombie not yet reaped counts). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, owned by someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const killOnExitSet = new Set<ChildProcess>();
let hookInstalled = false;

/**
 * SIGKILLs `child` when this process exits, if it is still running then: a
 * synchronous last resort (a test runner exits, an error skips teardown), so
 * no child outlives its parent. One `exit` listener serves every child.
 */
export function killOnExit(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  if (!hookInstalled) {
    hookInstalled = true;
    process.on('exit', () => {
      for (const c of killOnExitSet) {
        try {
          c.kill('SIGKILL');
        } catch {
          // already gone
        }
      }
    });
  }
  killOnExitSet.add(child);
  child.once('exit', () => killOnExitSet.delete(child));
}
