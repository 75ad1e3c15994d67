import { SignalBatch, type CodecError, type Signal } from '@troupe/actor-core/wire';
import type { WireCodec } from './codec.js';
import { FrameType } from './frame-types.js';
import { Packr } from 'msgpackr';

/**
 * Collects the signals for one peer until the next flush and encodes them as
 * one Data frame: `[0x10][msgpack array of signals]`. One WebSocket message
 * per tick instead of one per signal is worth >10x on the wire.
 */
export class FrameEncoder {
  private readonly batch = new SignalBatch();

  constructor(
    private readonly codec: WireCodec,
    /** A signal that cannot be encoded (or is too large) is dropped and reported here. */
    private readonly onUnencodable: (kind: string, err: CodecError) => void,
  ) {}

  /** Queues a signal; returns the number queued. */
  push(s: Signal): number {
    this.batch.add(s);
    return this.batch.size;
  }

  /** Queues a send to the peer's process `(id, creation)`; returns the number queued. */
  pushSend(id: number, creation: number, msg: unknown): number {
    this.batch.send(id, creation, msg);
    return this.batch.size;
  }

  get pending(): number {
    return this.batch.size;
  }

  /**
   * The queued signals as Data frames of at most `maxBytes` (the peer's
   * `maxPayload` would close the connection): one, unless the batch is
   * larger. A single signal larger than `maxBytes` is dropped and reported:
   * it could never be delivered.
   */
  flush(maxBytes: number): Buffer[] {
    return this.codec.encodeFrames(this.batch, maxBytes - 1, this.onUnencodable).map((p) => withType(FrameType.Data, p));
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
