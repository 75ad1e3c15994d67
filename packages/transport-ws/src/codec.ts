import { SignalCodec, type CodecEnds, type CodecError, type DecodeFrameResult, type DecodeManyResult, type SignalBatch } from '@troupe/actor-core/wire';

/**
 * What the transport needs from a signal codec: a batch as frames, and a
 * frame back. actor-core's `SignalCodec` (msgpackr with Pid/Ref extension
 * types) is the default; the option exists for tests and future formats.
 */
export interface WireCodec {
  /**
   * Packs a batch (and clears it) as frame payloads of at most `maxBytes`;
   * never throws: a signal that cannot be encoded or is too large is
   * dropped and reported to `onDrop`.
   */
  encodeFrames(batch: SignalBatch, maxBytes: number, onDrop: (kind: string, err: CodecError) => void): Uint8Array[];
  /** Never throws. `ends`: this node (`local`) and the peer that sent the bytes. */
  decodeMany(bytes: Uint8Array, ends: CodecEnds): DecodeManyResult;
  /** Optional fast path (never throws): a checked frame whose sends reach processes without Signal objects. */
  decodeFrame?(bytes: Uint8Array, ends: CodecEnds): DecodeFrameResult;
}

export function defaultCodec(): WireCodec {
  return new SignalCodec();
}
