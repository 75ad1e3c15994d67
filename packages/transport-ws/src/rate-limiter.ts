/**
 * Failed handshakes per remote address in a sliding window. Above the limit
 * new connections from that address are closed before any crypto work, so a
 * cookie-guessing client gets a few tries per window, not thousands.
 */
export interface RateLimitOptions {
  /** Failed handshakes allowed per address per window (default 10). */
  maxFailures?: number;
  /** Window in ms (default 10 000). */
  windowMs?: number;
}

export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();
  private readonly max: number;
  private readonly windowMs: number;

  constructor(opts: RateLimitOptions = {}, private readonly maxAddresses = 10_000) {
    this.max = opts.maxFailures ?? 10;
    this.windowMs = opts.windowMs ?? 10_000;
  }

  blocked(addr: string, now: number): boolean {
    const times = this.recent(addr, now);
    return times !== undefined && times.length >= this.max;
  }

  fail(addr: string, now: number): void {
    const times = this.recent(addr, now) ?? [];
    times.push(now);
    this.failures.delete(addr);
    this.failures.set(addr, times);
    // Bounded memory under a spray of addresses: forget the least recently failed.
    if (this.failures.size > this.maxAddresses) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
  }

  private recent(addr: string, now: number): number[] | undefined {
    const times = this.failures.get(addr);
    if (times === undefined) return undefined;
    while (times.length > 0 && now - times[0]! >= this.windowMs) times.shift();
    if (times.length === 0) {
      this.failures.delete(addr);
      return undefined;
    }
    return times;
  }
}
