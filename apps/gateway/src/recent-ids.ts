/**
 * The message ids an in-memory agent remembers with their replies (the
 * durable agent has the store's processed ids instead): the newest `count`,
 * none older than `maxAgeMs`. Insertion order is age order, so trimming
 * stops at the first id that is young enough and within the count.
 */
export interface MessageIdRetention {
  /** Ids remembered per agent at most. Default 1000. */
  count?: number;
  /** ms an id is remembered at most. Default 24 h. */
  maxAgeMs?: number;
}

export const DEFAULT_MESSAGE_ID_COUNT = 1000;
export const DEFAULT_MESSAGE_ID_AGE_MS = 24 * 3600 * 1000;

export type RecentEntry = [id: string, reply: unknown, at: number];

export class RecentIds {
  private readonly byId = new Map<string, { reply: unknown; at: number }>();
  private readonly count: number;
  private readonly maxAgeMs: number;

  constructor(r: MessageIdRetention = {}, entries: readonly RecentEntry[] = []) {
    this.count = r.count ?? DEFAULT_MESSAGE_ID_COUNT;
    this.maxAgeMs = r.maxAgeMs ?? DEFAULT_MESSAGE_ID_AGE_MS;
    for (const [id, reply, at] of entries) if (typeof id === 'string' && typeof at === 'number') this.byId.set(id, { reply, at });
    this.trim();
  }

  lookup(id: string): { reply: unknown } | undefined {
    this.trim();
    return this.byId.get(id);
  }

  add(id: string, reply: unknown): void {
    if (!this.byId.has(id)) this.byId.set(id, { reply, at: Date.now() });
    this.trim();
  }

  /** Oldest first, for a hand-over. */
  entries(): RecentEntry[] {
    this.trim();
    return [...this.byId].map(([id, e]) => [id, e.reply, e.at]);
  }

  private trim(): void {
    const since = Date.now() - this.maxAgeMs;
    for (const [id, e] of this.byId) {
      if (this.byId.size <= this.count && e.at >= since) break;
      this.byId.delete(id);
    }
  }
}
