import type { Logger } from '@troupe/actor-core';

/**
 * Logs a kind of event at most once per interval, with how many were not
 * logged since: a flood of refused sockets costs one log line per interval,
 * not one per socket.
 */
export class IntervalLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    readonly intervalMs = 10_000,
  ) {}

  warn(key: string, msg: string, data: Record<string, unknown>, now = Date.now()): void {
    const seen = this.last.get(key);
    if (seen !== undefined && now - seen.at < this.intervalMs) {
      seen.suppressed++;
      return;
    }
    const suppressed = seen?.suppressed ?? 0;
    this.last.set(key, { at: now, suppressed: 0 });
    // Bounded: one entry per kind of event, and kinds are few; clear if callers misuse keys.
    if (this.last.size > 1000) this.last.clear();
    this.logger.warn(msg, suppressed > 0 ? { ...data, suppressedSinceLast: suppressed } : data);
  }
}
