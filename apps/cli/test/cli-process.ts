/**
 * Runs `troupe` as a real process from its TypeScript sources (tsx, with
 * tsconfig.src.json mapping @troupe/* to their src, like the root vitest
 * aliases), so the tests need no build. Output lines are collected; waits
 * are on lines with bounded timeouts, never sleeps.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { exited as childExited, onLines, type ChildExit } from '@troupe/child-process';
import { withTimeout } from '@troupe/actor-core/testing';

const cliDir = fileURLToPath(new URL('..', import.meta.url));
const entry = fileURLToPath(new URL('../src/main.ts', import.meta.url));
// Absolute, so processes the CLI itself starts (cluster → nodes) find tsx from any cwd.
const tsx = createRequire(import.meta.url).resolve('tsx');

export interface CliProcess {
  child: ChildProcess;
  /** stdout and stderr lines, in arrival order. */
  lines: string[];
  stdout: string[];
  stderr: string[];
  waitLine(pred: RegExp | ((line: string) => boolean), timeoutMs: number, from?: number): Promise<string>;
  exited: Promise<ChildExit>;
}

const running = new Set<ChildProcess>();
/** Nodes started by the tests register here, never in ~/.troupe/nodes (local discovery). */
export const NODES_DIR = mkdtempSync(join(tmpdir(), 'troupe-cli-nodes-'));

export function startCli(args: string[], env: Record<string, string> = {}): CliProcess {
  return launch(['--import', tsx, entry, ...args], env);
}

/** The built CLI (`dist/main.js`, as `npm start` runs it): for what only the build has, such as the `troupe node` bundle. */
export function startBuiltCli(args: string[], env: Record<string, string> = {}): CliProcess {
  return launch([join(cliDir, 'dist', 'main.js'), ...args], env);
}

function launch(argv: string[], env: Record<string, string>): CliProcess {
  const child = spawn(process.execPath, argv, {
    cwd: cliDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TSX_TSCONFIG_PATH: `${cliDir}tsconfig.src.json`, FORCE_COLOR: '0', TROUPE_LOG_FORMAT: 'pretty', TROUPE_NODES_DIR: NODES_DIR, ...env },
  });
  running.add(child);
  const lines: string[] = [];
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  for (const [stream, isErr] of [
    [child.stdout!, false],
    [child.stderr!, true],
  ] as const) {
    onLines(stream, (line) => {
      lines.push(line);
      (isErr ? stderr : stdout).push(line);
      for (const w of waiters) w();
    });
  }
  const exited = childExited(child).then((exit) => {
    running.delete(child);
    for (const w of waiters) w();
    return exit;
  });
  const waitLine = (pred: RegExp | ((line: string) => boolean), timeoutMs: number, from = 0): Promise<string> => {
    const test = typeof pred === 'function' ? pred : (l: string) => pred.test(l);
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const hit = lines.slice(from).find(test);
        if (hit !== undefined) {
          done();
          resolve(hit);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          done();
          reject(new Error(`process exited (${child.exitCode ?? child.signalCode}) before ${String(pred)}; output:\n${lines.slice(-30).join('\n')}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no line matching ${String(pred)} within ${timeoutMs} ms; output:\n${lines.slice(-30).join('\n')}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  };
  return { child, lines, stdout, stderr, waitLine, exited };
}

/** SIGKILLs whatever a test left running (afterEach). */
export function killAll(): void {
  for (const c of running) c.kill('SIGKILL');
  running.clear();
}

/** Resolves with the result, or rejects after `ms`. */
export { withTimeout as within };

/**
 * Starts `troupe cluster --nodes n` on a random base port and resolves once
 * it is up. A base port some other process holds (found by the CLI's own
 * check, or when a node binds) ends that run with "in use" and exit 1: then
 * it tries another base. No port is probed and released first, so there is
 * no window in which another process can take it.
 */
export async function startCluster(
  n: number,
  { upWithinMs = 40_000, attempts = 8, args = [], env = {}, upLine = /^cluster up: / }: { upWithinMs?: number; attempts?: number; args?: string[]; env?: Record<string, string>; upLine?: RegExp | ((l: string) => boolean) } = {},
): Promise<{ p: CliProcess; base: number }> {
  for (let attempt = 1; ; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 20000);
    const p = startCli(['cluster', '--nodes', String(n), '--base-port', String(base), ...args], env);
    const up = await p.waitLine(upLine, upWithinMs).then(
      () => true,
      async (e: unknown) => {
        const { code } = await withTimeout(p.exited, 20_000, 'cluster exit after a failed start');
        const portTaken = code === 1 && p.lines.some((l) => /in use|EADDRINUSE/.test(l));
        if (!portTaken || attempt >= attempts) throw e;
        return false;
      },
    );
    if (up) return { p, base };
  }
}

/**
 * Polls `cond` (sync or async) every 50 ms until it holds; rejects naming
 * `what` at the deadline. For state outside this process that sends no
 * event (another process's view of the cluster, a grandchild's death).
 */
export async function eventually(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** True if an OS process with this pid exists. */
export { processExists as alive } from '@troupe/child-process';
