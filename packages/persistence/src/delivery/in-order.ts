import { isThenable } from '../internal/outcome.js';

/**
 * Runs `step(from) ... step(to - 1)` one after the other, each after the
 * previous one settled; with no Promise at all while every step is
 * synchronous (the common case: a batch of deliveries folded in one turn).
 */
export function inOrder(from: number, to: number, step: (i: number) => unknown): void | Promise<void> {
  for (let i = from; i < to; i++) {
    const r = step(i);
    if (isThenable(r)) return r.then(() => inOrder(i + 1, to, step));
  }
}
