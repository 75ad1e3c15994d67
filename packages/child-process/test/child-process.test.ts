import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { withTimeout } from '@troupe/actor-core/testing';
import { exited, killAfter, killOnExit, onLines, processExists as alive, PendingRequests, RequestTimeoutError } from '../src/index.js';

const started: ChildProcess[] = [];
afterEach(() => {
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function node(script: string, ipc = false): ChildProcess {
  const c = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe', ...(ipc ? (['ipc'] as const) : [])] });
  started.push(c);
  return c;
}

describe('onLines', () => {
  it('splits output written in pieces into whole lines, and delivers a last line without a newline at the end', async () => {
    const c = node(`process.stdout.write('a'); setTimeout(() => process.stdout.write('b\\nc\\n\\nd'), 50);`);
    const lines: string[] = [];
    onLines(c.stdout!, (l) => lines.push(l));
    await withTimeout(new Promise((r) => c.stdout!.once('close', r)), 10_000, 'stdout close');
    expect(lines).toEqual(['ab', 'c', '', 'd']);
  });
});

describe('exited and killAfter', () => {
  it('killAfter SIGKILLs a child still running after the time; exited reports how it ended', async () => {
    const c = node('setInterval(() => {}, 1000)');
    killAfter(c, 100);
    expect(await withTimeout(exited(c), 10_000, 'exit')).toEqual({ code: null, signal: 'SIGKILL' });
    // Already exited: resolves at once with the same facts.
    expect(await exited(c)).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('a cancelled killAfter does not kill', async () => {
    const c = node('setTimeout(() => process.exit(3), 300)');
    killAfter(c, 50)();
    expect(await withTimeout(exited(c), 10_000, 'exit')).toEqual({ code: 3, signal: null });
  });
});

describe('killOnExit', () => {
  it('a child registered with killOnExit dies when its parent process exits', async () => {
    const here = new URL('../src/exit.ts', import.meta.url).pathname;
    const tsx = (await import('node:module')).createRequire(import.meta.url).resolve('tsx');
    // The parent starts a long-lived grandchild, registers it, prints its pid and exits.
    const parent = spawn(
      process.execPath,
      [
        '--import',
        tsx,
        '--input-type=module',
        '-e',
        `import { spawn } from 'node:child_process';
         const { killOnExit } = await import(${JSON.stringify(here)});
         const g = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
         killOnExit(g);
         console.log(g.pid);
         setTimeout(() => process.exit(0), 100);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    started.push(parent);
    const lines: string[] = [];
    onLines(parent.stdout!, (l) => lines.push(l));
    expect((await withTimeout(exited(parent), 20_000, 'parent exit')).code).toBe(0);
    const pid = Number(lines[0]);
    expect(pid).toBeGreaterThan(0);
    // SIGKILL is delivered by the parent's exit hook; the grandchild is reaped by init shortly after.
    const t0 = Date.now();
    while (alive(pid) && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
    const survived = alive(pid);
    if (survived) process.kill(pid, 'SIGKILL');
    expect(survived).toBe(false);
  });
});

describe('PendingRequests', () => {
  it('routes replies by id, times out with RequestTimeoutError, rejects on send failure and rejectAll', async () => {
    const reqs = new PendingRequests<string>();
    const sent: number[] = [];
    const a = reqs.request({ send: (id) => sent.push(id), timeoutMs: 5000 });
    const b = reqs.request({ send: (id) => sent.push(id), timeoutMs: 5000 });
    expect(sent).toEqual([1, 2]);
    expect(reqs.resolve(2, 'two')).toBe(true);
    expect(reqs.resolve(2, 'again')).toBe(false);
    expect(await b).toBe('two');
    const late = reqs.request({ send: () => {}, timeoutMs: 20, timeoutMessage: () => 'too late' });
    await expect(late).rejects.toThrow(RequestTimeoutError);
    await expect(late).rejects.toThrow('too late');
    const broken = reqs.request({
      send: () => {
        throw new Error('channel closed');
      },
      timeoutMs: 5000,
    });
    await expect(broken).rejects.toThrow('channel closed');
    reqs.rejectAll(() => new Error('gone'));
    await expect(a).rejects.toThrow('gone');
    expect(reqs.size).toBe(0);
  });

  it('round trip over a real IPC channel', async () => {
    const c = node(`process.on('message', (m) => process.send({ id: m.id, value: m.x * 2 }));`, true);
    const reqs = new PendingRequests<number>();
    c.on('message', (m: { id: number; value: number }) => reqs.resolve(m.id, m.value));
    const r = await withTimeout(Promise.all([1, 2, 3].map((x) => reqs.request({ send: (id) => c.send({ id, x }), timeoutMs: 10_000 }))), 15_000, 'replies');
    expect(r).toEqual([2, 4, 6]);
    c.disconnect();
  });
});
