import { WaitTimeoutError } from '@troupe/actor-core';

interface Waiter {
  check(): boolean;
}

/**
 * Awaitable reads of a replica (`whenRegistered`, `whenMembers`): a waiter
 * is checked when it is made and again each time the service pokes (after
 * a replica change), never on a timer, so waiting costs nothing while
 * nothing changes. Each waiter's timeout rejects with `WaitTimeoutError`.
 */
export class Waiters {
  private readonly all = new Set<Waiter>();
  private readonly listeners = new Set<() => void>();

  /** Waiters and listeners: 0 means a change needs no poke. */
  get size(): number {
    return this.all.size + this.listeners.size;
  }

  /** Calls `onChange` on every poke until the returned function is called (a `ChildRef`'s watch). */
  listen(onChange: () => void): () => void {
    const l = (): void => onChange();
    this.listeners.add(l);
    return () => void this.listeners.delete(l);
  }

  /** Resolves with `probe()`'s first value other than undefined; `what` names it in the timeout error. */
  wait<T>(probe: () => T | undefined, what: string, timeoutMs = 5000): Promise<T> {
    const now = probe();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise<T>((resolve, reject) => {
      const timer = Number.isFinite(timeoutMs)
        ? setTimeout(() => {
            this.all.delete(w);
            reject(new WaitTimeoutError(what, timeoutMs));
          }, timeoutMs)
        : null;
      const w: Waiter = {
        check: () => {
          const v = probe();
          if (v === undefined) return false;
          if (timer !== null) clearTimeout(timer);
          resolve(v);
          return true;
        },
      };
      this.all.add(w);
    });
  }

  /** Re-checks every waiter (after a change of what they read). */
  poke(): void {
    for (const w of [...this.all]) if (w.check()) this.all.delete(w);
    for (const l of [...this.listeners]) l();
  }
}
