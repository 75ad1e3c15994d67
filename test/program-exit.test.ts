import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { exited, killAfter, killOnExit, onLines } from '@troupe/child-process';

const root = new URL('../', import.meta.url);
const tsx = createRequire(import.meta.url).resolve('tsx');
/** The harness's tsconfig maps @troupe/* to their sources: the child runs the code under test, no build needed. */
const tsconfig = fileURLToPath(new URL('apps/harness/tsconfig.src.json', root));

describe('a program exits when its work is done', () => {
  it('local and remote calls and RPCs between two WsTransport nodes, then shutdown: the process exits by itself', async () => {
    const child = spawn(process.execPath, ['--import', tsx, fileURLToPath(new URL('fixtures/exits-by-itself.ts', import.meta.url))], {
      env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    killOnExit(child);
    // The calls' timeouts are 20 s and the RPC default 30 s: a process still alive long before then is held by something.
    const cancel = killAfter(child, 15_000);
    let doneAt: number | null = null;
    const errors: string[] = [];
    onLines(child.stdout!, (line) => {
      const m = /^done (\d+)$/.exec(line);
      if (m !== null) doneAt = Number(m[1]);
    });
    onLines(child.stderr!, (line) => errors.push(line));
    const exit = await exited(child);
    const exitAt = Date.now();
    cancel();
    expect(errors.join('\n')).toBe('');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(doneAt).not.toBeNull();
    // Not asserted (timing under a loaded machine): reported for the record.
    console.log(`exit ${exitAt - doneAt!} ms after the program's last await`);
  }, 30_000);
});
