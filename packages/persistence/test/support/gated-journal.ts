import { until } from '@troupe/actor-core/testing';
import type { AppendRequest, Journal, PersistedEvent } from '../../src/index.js';

/**
 * A journal that holds appends (and optionally replays) until the test
 * releases them, counting what runs at once: for "the reply waits for the
 * write" and recovery-concurrency tests.
 */
export class GatedJournal implements Journal {
  readonly appends: AppendRequest[] = [];
  private held: (() => void)[] = [];
  holdAppends = false;
  holdReplays = false;
  failNext: Error | null = null;
  replaysNow = 0;
  maxReplaysAtOnce = 0;
  replayCalls: { id: string; from: number }[] = [];
  private heldReplays: (() => void)[] = [];

  constructor(private readonly inner: Journal) {}

  /** Resolves once `n` writes are held. */
  waitHeld(n: number, timeoutMs = 3000): Promise<void> {
    return until(() => this.heldCount >= n, timeoutMs, `${n} held writes or replays`);
  }

  releaseAll(): void {
    const h = [...this.held, ...this.heldReplays];
    this.held = [];
    this.heldReplays = [];
    for (const f of h) f();
  }

  releaseOneReplay(): boolean {
    const f = this.heldReplays.shift();
    f?.();
    return f !== undefined;
  }

  get heldCount(): number {
    return this.held.length + this.heldReplays.length;
  }

  async append(req: AppendRequest): Promise<void> {
    this.appends.push(req);
    if (this.holdAppends) await new Promise<void>((r) => this.held.push(r));
    if (this.failNext !== null) {
      const e = this.failNext;
      this.failNext = null;
      throw e;
    }
    return this.inner.append(req);
  }

  async replay(id: string, fromSeq: number, toSeq: number, max: number): Promise<PersistedEvent[]> {
    this.replayCalls.push({ id, from: fromSeq });
    this.replaysNow++;
    this.maxReplaysAtOnce = Math.max(this.maxReplaysAtOnce, this.replaysNow);
    try {
      if (this.holdReplays) await new Promise<void>((r) => this.heldReplays.push(r));
      return await this.inner.replay(id, fromSeq, toSeq, max);
    } finally {
      this.replaysNow--;
    }
  }

  highestSeq(id: string): Promise<number> {
    return this.inner.highestSeq(id);
  }
  deleteTo(id: string, toSeq: number): Promise<void> {
    return this.inner.deleteTo(id, toSeq);
  }
  processed(id: string, keep: Parameters<Journal['processed']>[1]): ReturnType<Journal['processed']> {
    return this.inner.processed(id, keep);
  }
  pruneProcessed(id: string, keep: Parameters<Journal['pruneProcessed']>[1]): Promise<void> {
    return this.inner.pruneProcessed(id, keep);
  }
}
