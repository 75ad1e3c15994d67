/** A request that got no reply in time. */
export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError';
}

interface Pending<T> {
  resolve(v: T): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

export interface RequestOptions {
  /** Sends the request carrying `id` (e.g. over `child.send`); a throw rejects the request with that error. */
  send(id: number): void;
  timeoutMs: number;
  /** The timeout error's message, built when the time is up (default: `no reply within N ms`). */
  timeoutMessage?: () => string;
  /** Let this process exit while the request waits (default false). */
  unref?: boolean;
}

/**
 * Requests awaiting replies over a message channel (an IPC channel to a
 * child): each gets a fresh id, which its reply carries back; each ends
 * exactly once — reply, failure, timeout, or `rejectAll` when the other side
 * is gone.
 */
export class PendingRequests<T = unknown> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending<T>>();

  /** Requests waiting for a reply. */
  get size(): number {
    return this.pending.size;
  }

  request(o: RequestOptions): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RequestTimeoutError(o.timeoutMessage?.() ?? `no reply within ${o.timeoutMs} ms`));
      }, o.timeoutMs);
      if (o.unref === true) timer.unref();
      this.pending.set(id, { resolve, reject, timer });
      try {
        o.send(id);
      } catch (e) {
        this.reject(id, e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  /** Settles request `id` with its reply; false if it is not pending (timed out, or never sent). */
  resolve(id: number, value: T): boolean {
    const p = this.take(id);
    p?.resolve(value);
    return p !== undefined;
  }

  /** Fails request `id`; false if it is not pending. */
  reject(id: number, error: Error): boolean {
    const p = this.take(id);
    p?.reject(error);
    return p !== undefined;
  }

  /** Fails every pending request (the other side went away). */
  rejectAll(error: () => Error): void {
    for (const id of [...this.pending.keys()]) this.reject(id, error());
  }

  private take(id: number): Pending<T> | undefined {
    const p = this.pending.get(id);
    if (p === undefined) return undefined;
    this.pending.delete(id);
    clearTimeout(p.timer);
    return p;
  }
}
