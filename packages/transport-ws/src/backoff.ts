/**
 * Retry delays of the transport (reconnects after a nodedown, discovery's
 * lookups and dials): exponential from `initialMs`, doubling per earlier
 * failure up to `maxMs`, spread by ±`jitter` so the two ends of a connection
 * (and a whole restarted cluster) do not dial in lockstep.
 */
export interface BackoffOptions {
  /** First delay (ms); doubles per failure. */
  initialMs?: number;
  /** Largest delay (ms). */
  maxMs?: number;
  /** Random spread of each delay, 0..1. */
  jitter?: number;
}

/** The delay before the next attempt after `failures` failed ones (0 for the first retry). */
export function backoffDelay(failures: number, o: Required<BackoffOptions>): number {
  const base = Math.min(o.maxMs, o.initialMs * 2 ** Math.min(failures, 30));
  return Math.round(base * (1 - o.jitter + 2 * o.jitter * Math.random()));
}

/** `jitter` clamped to 0..1. */
export function clampJitter(jitter: number): number {
  return Math.min(1, Math.max(0, jitter));
}
