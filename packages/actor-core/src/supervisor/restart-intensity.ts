/** OTP's `add_restart`: a sliding window of restart times. Pure: `now` is passed in. */

export interface IntensityLimit {
  /** Max restarts allowed within the window. */
  intensity: number;
  /** Window length in seconds. */
  period: number;
}

export interface RestartRecord {
  /** Restart times (ms) still inside the window, oldest first, including `now`. */
  times: number[];
  /** More than `intensity` restarts in the window: the supervisor must give up. */
  exceeded: boolean;
}

/** Records a restart at `now` (ms, monotonic) and drops times older than the window. */
export function recordRestart(times: readonly number[], now: number, limit: IntensityLimit): RestartRecord {
  const threshold = now - limit.period * 1000;
  const kept = times.filter((t) => t > threshold);
  kept.push(now);
  return { times: kept, exceeded: kept.length > limit.intensity };
}
