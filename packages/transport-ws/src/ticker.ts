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
   * What to do at `now` (called once per tick interval). A frame is noticed at
   * the first check after it arrived or left, so the times compared are check
   * times; both thresholds are a tenth of an interval short of their nominal
   * value so that a check fired a few ms late never lets a whole interval pass.
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
    const slack = intervalMs * 0.1;
    if (now - this.lastHeard >= timeoutMs - slack) return 'timeout';
    if (now - this.lastSpoke >= intervalMs - slack) {
      this.lastSpoke = now;
      return 'tick';
    }
    return null;
  }

  /**
   * The tick (or the flush) that a 'tick' asked for was written: it is not
   * traffic of the coming interval. The next check would otherwise see it as
   * a send and start the interval again there: on an idle link a tick every
   * other interval instead of every `intervalMs`.
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
