import type { Signal } from '@troupe/actor-core';
import type { WireCodec } from './codec.js';
import { FrameType } from './frame-types.js';
import { Packr } from 'msgpackr';

/**
 * Collects the signals for one peer until the next flush and encodes them as
 * one Data frame: `[0x10][msgpack array of signals]`. One WebSocket message
 * per tick instead of one per signal is worth >10x on the wire
 * (node-performance.md §8).
 */
export class FrameEncoder {
  private queue: Signal[] = [];

  constructor(
    private readonly codec: WireCodec,
    /** A signal whose payload cannot be encoded: it is dropped and reported here. */
    private readonly onUnencodable: (s: Signal, err: Error) => void,
  ) {}

  /** Queues a signal; returns the queue length. */
  push(s: Signal): number {
    return this.queue.push(s);
  }

  get pending(): number {
    return this.queue.length;
  }

  /**
   * The queued signals as Data frames: one, unless it would exceed
   * `maxBytes` (the peer's `maxPayload` would close the connection), then
   * split in halves. A single signal larger than `maxBytes` is dropped and
   * reported: it could never be delivered.
   */
  flush(maxBytes: number): Buffer[] {
    const q = this.queue;
    if (q.length === 0) return [];
    this.queue = [];
    const out: Buffer[] = [];
    this.encodeInto(q, maxBytes, out);
    return out;
  }

  private encodeInto(q: Signal[], maxBytes: number, out: Buffer[]): void {
    let payload: Uint8Array;
    try {
      payload = this.codec.encodeMany(q);
    } catch {
      // A bad payload must not take the rest of the batch with it: encode one by one, drop only the culprit.
      payload = this.encodeEach(q);
      if (payload.length === 0) return;
    }
    if (payload.length + 1 <= maxBytes) {
      out.push(withType(FrameType.Data, payload));
    } else if (q.length === 1) {
      this.onUnencodable(q[0]!, new Error(`the encoded signal is ${payload.length} bytes, more than maxPayload (${maxBytes})`));
    } else {
      const mid = q.length >> 1;
      this.encodeInto(q.slice(0, mid), maxBytes, out);
      this.encodeInto(q.slice(mid), maxBytes, out);
    }
  }

  private encodeEach(q: Signal[]): Uint8Array {
    const good: Signal[] = [];
    for (const s of q) {
      try {
        this.codec.encode(s);
        good.push(s);
      } catch (e) {
        this.onUnencodable(s, e instanceof Error ? e : new Error(String(e)));
      }
    }
    if (good.length === 0) return new Uint8Array(0);
    return this.codec.encodeMany(good);
  }
}

export function withType(type: number, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(payload.length + 1);
  out[0] = type;
  out.set(payload, 1);
  return out;
}

const TICK = Buffer.from([FrameType.Tick]);

export function tickFrame(): Buffer {
  return TICK;
}

export interface Member {
  name: string;
  url: string;
}

const packr = new Packr({ useRecords: false });

export function membersFrame(members: readonly Member[]): Buffer {
  return withType(FrameType.Members, packr.pack(members.map((m) => [m.name, m.url])));
}
