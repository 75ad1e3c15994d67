import { spawn } from 'node:child_process';
import { expect, it } from 'vitest';
import { processCpuSeconds } from '../src/noise.js';

// A child that starts a grandchild spinning for 300 ms of its own CPU time, and waits for it.
const GRANDCHILD = 'const t0 = process.cpuUsage(); for (;;) { const u = process.cpuUsage(t0); if (u.user + u.system >= 300_000) break; }';
const CHILD = `require('node:child_process').spawn(process.execPath, ['-e', ${JSON.stringify(GRANDCHILD)}], { stdio: 'ignore' }).on('exit', () => process.exit(0));`;

it.runIf(process.platform === 'linux')("processCpuSeconds('self', 'reaped') counts the CPU of a child and of what that child waited for", async () => {
  const before = processCpuSeconds('self', 'reaped')!;
  const child = spawn(process.execPath, ['-e', CHILD], { stdio: 'ignore' });
  await new Promise<void>((ok, fail) => child.on('close', (code) => (code === 0 ? ok() : fail(new Error(`child exit ${code}`)))));
  // Clock ticks of 10 ms: at least 300 ms, less a tick of rounding.
  expect(processCpuSeconds('self', 'reaped')! - before).toBeGreaterThanOrEqual(0.29);
});
