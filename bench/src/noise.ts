/**
 * How much CPU other processes take. The project box has 2 vCPUs shared
 * with other work, and one busy neighbour halves a throughput figure, so
 * the runner waits for a quiet moment before a case and records what others
 * used during it. Linux only (/proc/stat); elsewhere it reports nothing.
 */
import { readFileSync } from 'node:fs';

/** USER_HZ: /proc/stat counts in 1/100 s on every Linux we run on. */
const HZ = 100;

/** Seconds of CPU time the whole machine has been busy, or null without /proc. */
export function machineBusySeconds(): number | null {
  try {
    const first = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const f = first.trim().split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0); // idle + iowait
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0); // guest time is already in user
    return (total - idle) / HZ;
  } catch {
    return null;
  }
}

/**
 * CPU seconds from /proc/<pid>/stat, or null without it (no /proc, or the
 * process is gone): `own` is the process's user + system time; `reaped`
 * that of its children that have exited and been waited for, with
 * everything they waited for in turn (cutime + cstime). A case's child is
 * waited for when it ends, so `reaped` of this process across a case covers
 * the `troupe node` processes the case started and stopped, which the case's
 * own `process.cpuUsage()` does not see.
 */
export function processCpuSeconds(pid: number | 'self', which: 'own' | 'reaped' = 'own'): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After the command name (which may hold spaces): utime, stime, cutime, cstime are fields 14-17.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const i = which === 'own' ? 11 : 13;
    return (Number(f[i]) + Number(f[i + 1])) / HZ;
  } catch {
    return null;
  }
}

function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Measures other processes' CPU (in cores) between `start()` and `stop(childCpuSeconds)`. */
export class NoiseMeter {
  private busy0: number | null = null;
  private own0 = 0;
  private t0 = 0;

  start(): void {
    this.busy0 = machineBusySeconds();
    this.own0 = ownCpuSeconds();
    this.t0 = performance.now();
  }

  /** Cores used by everything except this process and the measured child; null if unknown. */
  stop(childCpuSeconds: number): number | null {
    const busy1 = machineBusySeconds();
    if (this.busy0 === null || busy1 === null) return null;
    const wall = (performance.now() - this.t0) / 1e3;
    if (wall <= 0) return null;
    const others = busy1 - this.busy0 - (ownCpuSeconds() - this.own0) - childCpuSeconds;
    return Math.max(0, others / wall);
  }
}

/**
 * Waits until other processes use less than `maxCores` over a 0.5 s window,
 * for at most `maxWaitMs`. Resolves with the last reading (null: unknown).
 */
export async function waitForQuiet(maxCores: number, maxWaitMs: number, onWait?: (cores: number) => void): Promise<number | null> {
  const deadline = performance.now() + maxWaitMs;
  let told = false;
  for (;;) {
    const m = new NoiseMeter();
    m.start();
    await new Promise((r) => setTimeout(r, 500));
    const cores = m.stop(0);
    if (cores === null || cores < maxCores || performance.now() >= deadline) return cores;
    if (!told) {
      onWait?.(cores);
      told = true;
    }
  }
}
