/**
 * A consumer's high-water marks: per producer id, the highest sequence
 * number applied and stored. They are written in the same atomic write as
 * the effects of the messages they cover (a journal record, or the state
 * row), so after any crash the marks and the state agree.
 *
 * At most `max` producers are remembered; the one updated longest ago is
 * forgotten first (Map order is update order). A forgotten producer is not
 * lost: each batch carries what the producer already saw confirmed, and the
 * consumer never applies anything at or below it — so forgetting only risks
 * re-applying messages that were applied but whose confirmation had not yet
 * reached the producer (see the README's guarantees).
 */
export class DeliveryMarks {
  private readonly byProducer = new Map<string, number>();

  constructor(private readonly max: number) {}

  get size(): number {
    return this.byProducer.size;
  }

  get(producer: string): number {
    return this.byProducer.get(producer) ?? 0;
  }

  set(producer: string, seq: number): void {
    if (seq <= this.get(producer)) return;
    this.byProducer.delete(producer);
    this.byProducer.set(producer, seq);
    if (this.byProducer.size > this.max) this.byProducer.delete(this.byProducer.keys().next().value!);
  }

  /** Oldest update first, as stored. */
  entries(): [string, number][] {
    return [...this.byProducer];
  }

  /** Fills from stored entries (never lowers a mark); ignores malformed ones. */
  restore(list: unknown): void {
    if (!Array.isArray(list)) return;
    for (const e of list) if (isMark(e)) this.set(e[0], e[1]);
  }
}

export function isMark(e: unknown): e is [string, number] {
  return Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && typeof e[1] === 'number' && Number.isSafeInteger(e[1]) && e[1] >= 0;
}

/** What a batch means for a consumer at mark `known`. */
export type DeliveryPlan =
  /** Every message is at or below the mark: confirm, apply nothing. */
  | { kind: 'duplicate'; known: number }
  /** The batch starts after `known + 1`: apply nothing, ask for a resend from `known + 1`. */
  | { kind: 'gap'; known: number }
  /** Apply `m.slice(skip)`, numbered `known + 1 ...`. */
  | { kind: 'apply'; known: number; skip: number };

/**
 * `stored` is the consumer's mark; `confirmed` is what the producer says was
 * confirmed to it (never above the true mark of an honest consumer, so it
 * may stand in for a forgotten mark).
 */
export function planDelivery(stored: number, confirmed: number, first: number, count: number): DeliveryPlan {
  const known = Math.max(stored, confirmed);
  const last = first + count - 1;
  if (last <= known) return { kind: 'duplicate', known };
  if (first > known + 1) return { kind: 'gap', known };
  return { kind: 'apply', known, skip: known + 1 - first };
}
