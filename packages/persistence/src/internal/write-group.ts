/**
 * Groups writes that arrive in the same turn (many servers persisting at
 * once) into one commit: the first write of a turn schedules a flush on a
 * microtask, every write until then joins it. At most `maxInFlight` groups
 * are committing at once; writes arriving meanwhile form the next group, so
 * a busy store commits ever larger groups instead of queueing commits.
 */
export class WriteGroup<W> {
  private pending: W[] = [];
  private scheduled = false;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  /**
   * `commit` settles every write of its group; should it throw, `fail`
   * settles them instead (no write is left pending).
   */
  constructor(
    private readonly commit: (group: W[]) => Promise<void> | void,
    private readonly fail: (group: W[], e: unknown) => void,
    private readonly maxInFlight = 1,
    private readonly maxGroup = 4096,
    /**
     * Start the next group on a later event-loop turn, not a microtask: for
     * commits that run on this thread, so a backlog is committed in bounded
     * bursts with timers and sockets served between them.
     */
    private readonly yieldBetweenGroups = false,
  ) {}

  add(w: W): void {
    this.pending.push(w);
    if (!this.scheduled && this.inFlight < this.maxInFlight) {
      this.scheduled = true;
      queueMicrotask(this.flush);
    }
  }

  /** Resolves once nothing is pending or committing. */
  idle(): Promise<void> {
    if (this.pending.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    while (this.pending.length > 0 && this.inFlight < this.maxInFlight) {
      const group = this.pending.length <= this.maxGroup ? this.pending : this.pending.slice(0, this.maxGroup);
      this.pending = group === this.pending ? [] : this.pending.slice(this.maxGroup);
      this.inFlight++;
      let r: Promise<void> | void;
      try {
        r = this.commit(group);
      } catch (e) {
        this.fail(group, e);
        r = undefined;
      }
      if (r === undefined) this.done();
      else r.then(this.done, this.done);
    }
  };

  private readonly done = (): void => {
    this.inFlight--;
    if (this.pending.length > 0) {
      if (!this.scheduled) {
        this.scheduled = true;
        if (this.yieldBetweenGroups) setImmediate(this.flush);
        else queueMicrotask(this.flush);
      }
    } else if (this.inFlight === 0 && this.idleWaiters.length > 0) {
      const ws = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of ws) w();
    }
  };
}

/** Writes settled per event-loop turn: what their callers run next stays a short burst. */
const SETTLE_CHUNK = 256;

/**
 * Settles a committed group `SETTLE_CHUNK` writes at a time, one chunk per
 * event-loop turn: each settlement resumes a server (reply, next command,
 * next append), so a group of thousands settled at once would hold the
 * event loop for all of them.
 */
export function settleInTurns<W>(group: readonly W[], settle: (w: W, i: number) => void, from = 0): void {
  const end = Math.min(group.length, from + SETTLE_CHUNK);
  for (let i = from; i < end; i++) settle(group[i]!, i);
  if (end < group.length) setImmediate(settleInTurns, group, settle, end);
}
