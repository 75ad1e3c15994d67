/**
 * Liveness of one connection, like Erlang's net ticks:
 * a tick goes out only when nothing else was sent during the last interval,
 * and the peer is down when nothing at all arrived for `timeoutMs`. Counters
 * instead of a clock read per frame: the hot path only increments.
 */
export type TickAction = 'tick' | 'timeout' | null;

export class Liveness {
  /** Bumped per frame received / sent; compared at each check. */
  received = 0;
  sent = 0;
  private seenReceived = 0;
  private seenSent = 0;
  private lastHeard: number;
  private lastSpoke: number;

  constructor(now: number) {
    this.lastHeard = now;
    this.lastSpoke = now;
  }

  /**
   * What to do at `now` (called several times per tick interval). The sent check comes
   * first: a tick is due even when the peer is about to time out.
   */
  check(now: number, intervalMs: number, timeoutMs: number): TickAction {
    if (this.received !== this.seenReceived) {
      this.seenReceived = this.received;
      this.lastHeard = now;
    }
    if (this.sent !== this.seenSent) {
      this.seenSent = this.sent;
      this.lastSpoke = now;
    }
    if (now - this.lastHeard >= timeoutMs) return 'timeout';
    // Slightly early (90%) so that timer jitter never lets a full interval pass silently.
    if (now - this.lastSpoke >= intervalMs * 0.9) {
      this.lastSpoke = now;
      return 'tick';
    }
    return null;
  }

  /**
   * The tick (or the flush) that a 'tick' asked for was written: it is not
   * traffic of the coming interval. The next check would otherwise see it as
   * a send and start the interval again there: on an idle link a tick every
   * `intervalMs` plus one check period instead of every `intervalMs`.
   */
  ticked(): void {
    this.seenSent = this.sent;
  }

  /** Whether a frame arrived since the last `check` (a timeout is confirmed only if not). */
  heardSinceCheck(): boolean {
    return this.received !== this.seenReceived;
  }

  /** ms since the last frame from the peer, as of the last check. */
  silentFor(now: number): number {
    return now - this.lastHeard;
  }
}

/** A timer to cancel. */
export interface Stoppable {
  stop(): void;
}

/**
 * Calls `fn` every `periodMs`, at the multiples of `periodMs` on the wall
 * clock, so that all nodes of a cluster check (and tick) at the same
 * instants. A node then receives its peers' ticks in a few bursts rather
 * than in one wake-up per peer, each running the frame path with cold
 * caches (docs/SCALE.md, "Idle CPU"). The next call is
 * never more than `periodMs` away, whatever the clock does. Does not keep
 * the process alive.
 */
export function alignedTimer(periodMs: number, fn: () => void): Stoppable {
  let timer: NodeJS.Timeout | null = null;
  const arm = (): void => {
    timer = setTimeout(fire, periodMs - (Date.now() % periodMs));
    timer.unref();
  };
  const fire = (): void => {
    arm();
    fn();
  };
  arm();
  return {
    stop: () => {
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}
