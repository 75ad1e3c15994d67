import type { ProcessedCommand, ProcessedRetention } from '../store/journal.js';

/**
 * The message ids a server remembers, with their replies: the newest
 * `count`, none older than `maxAgeMs`. A retry within that window gets the
 * stored reply; a retry after it is a new command. Insertion order is age
 * order, so the oldest is always first in the Map.
 */
export class ProcessedIds {
  private readonly byId = new Map<string, { reply: unknown; at: number }>();

  constructor(
    private readonly count: number,
    private readonly maxAgeMs: number,
    private readonly now: () => number,
  ) {}

  retention(): ProcessedRetention {
    return { count: this.count, since: this.now() - this.maxAgeMs };
  }

  /** Fills from the store's records, newest first. */
  load(newestFirst: readonly ProcessedCommand[]): void {
    for (let i = newestFirst.length - 1; i >= 0; i--) {
      const p = newestFirst[i]!;
      this.byId.set(p.messageId, { reply: p.reply, at: p.at });
    }
    this.trim();
  }

  /** The stored reply, if `id` is remembered. */
  lookup(id: string): { reply: unknown } | undefined {
    const hit = this.byId.get(id);
    if (hit === undefined) return undefined;
    if (hit.at < this.now() - this.maxAgeMs) {
      this.trim();
      return undefined;
    }
    return hit;
  }

  add(id: string, reply: unknown): void {
    if (!this.byId.has(id)) this.byId.set(id, { reply, at: this.now() });
    this.trim();
  }

  /** Oldest first, as `[messageId, reply, at]`. */
  entries(): [string, unknown, number][] {
    this.trim();
    return [...this.byId].map(([id, p]) => [id, p.reply, p.at]);
  }

  /** Fills from `entries()` output. */
  restore(list: readonly [string, unknown, number][]): void {
    for (const [id, reply, at] of list) this.byId.set(id, { reply, at });
    this.trim();
  }

  private trim(): void {
    const since = this.now() - this.maxAgeMs;
    for (const [id, p] of this.byId) {
      if (this.byId.size <= this.count && p.at >= since) break;
      this.byId.delete(id);
    }
  }
}
