/**
 * The deadlines of a gateway's requests in flight, all `ms` long, on one
 * timer: a setTimeout and a clearTimeout per request were ~2.5% of a small
 * JSON-RPC request's CPU under load. Every request gets the same time, so
 * arrival order is deadline order and the earliest is always the first
 * entry. No timer runs while nothing is in flight.
 */
export interface Deadline {
  readonly at: number;
  readonly expire: () => void;
}

export class RequestDeadlines {
  private readonly pending = new Set<Deadline>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly ms: number) {}

  /** Calls `expire` after `ms` unless `cancel`ed first. */
  start(expire: () => void): Deadline {
    const d: Deadline = { at: performance.now() + this.ms, expire };
    this.pending.add(d);
    if (this.timer === null) this.arm(this.ms);
    return d;
  }

  cancel(d: Deadline): void {
    this.pending.delete(d);
  }

  /** Drops every deadline (the server is closing and its sockets are gone). */
  stop(): void {
    this.pending.clear();
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(ms: number): void {
    // setTimeout takes at most 2^31-1 ms (longer fires after 1 ms): a longer deadline is re-armed on the way.
    this.timer = setTimeout(this.fire, Math.min(2 ** 31 - 1, Math.max(1, Math.ceil(ms))));
  }

  private readonly fire = (): void => {
    this.timer = null;
    const now = performance.now();
    for (const d of this.pending) {
      // The loop's cached clock can start a timer a fraction of a ms early: wait for the rest.
      if (d.at > now) return this.arm(d.at - now);
      this.pending.delete(d);
      d.expire();
    }
  };
}
