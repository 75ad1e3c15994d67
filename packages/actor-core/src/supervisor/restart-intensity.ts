/**
 * OTP's restart intensity (`add_restart`): a sliding window of restart
 * times; more than `intensity` restarts within `period` seconds means the
 * supervisor gives up. A restart exactly `period` old has left the window.
 */

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

/** Records a restart at `now` (ms, monotonic) and drops times older than the window. Pure. */
export function recordRestart(times: readonly number[], now: number, limit: IntensityLimit): RestartRecord {
  const threshold = now - limit.period * 1000;
  const kept = times.filter((t) => t > threshold);
  kept.push(now);
  return { times: kept, exceeded: kept.length > limit.intensity };
}

/** `recordRestart` with the window kept: for a supervisor that holds one. */
export class RestartIntensity {
  private times: number[] = [];

  constructor(private readonly limit: IntensityLimit) {}

  /** Records a restart at `now` (ms); true if that exceeds the intensity. */
  exceeded(now: number): boolean {
    const r = recordRestart(this.times, now, this.limit);
    this.times = r.times;
    return r.exceeded;
  }
}
