import type { Node } from '@troupe/actor-core';

/** A counting semaphore: at most `max` holders, the rest wait in arrival order. */
class Permits {
  private held = 0;
  private readonly waiting: (() => void)[] = [];
  private head = 0;

  constructor(public max: number) {}

  acquire(): Promise<void> {
    if (this.held < this.max) {
      this.held++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    if (this.head < this.waiting.length) {
      const next = this.waiting[this.head++]!;
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting.splice(0, this.head);
        this.head = 0;
      }
      next(); // the permit passes straight to the next waiter
    } else {
      this.held--;
    }
  }
}

/** Default recoveries at once per node: enough to keep a store busy, few enough that a restart storm queues. */
export const DEFAULT_MAX_RECOVERIES = 32;

const limits = new WeakMap<Node, Permits>();

export function recoveryPermits(node: Node): Permits {
  let p = limits.get(node);
  if (p === undefined) limits.set(node, (p = new Permits(DEFAULT_MAX_RECOVERIES)));
  return p;
}

/**
 * At most `max` persistent servers of this node recover at once; the others
 * wait (their mailboxes closed) in the order they started. Takes effect for
 * recoveries that start after the call.
 */
export function setMaxConcurrentRecoveries(node: Node, max: number): void {
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxConcurrentRecoveries must be an integer >= 1, got ${max}`);
  recoveryPermits(node).max = max;
}

/** `p`, or RecoveryTimeout-style rejection from `onTimeout` if it takes longer than `ms`. */
export function within<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  if (!Number.isFinite(ms)) return p;
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(onTimeout()), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
