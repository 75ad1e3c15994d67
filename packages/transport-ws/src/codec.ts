import { SignalCodec, type CodecEnds, type DecodeFrameResult, type DecodeManyResult, type Signal } from '@troupe/actor-core';

/**
 * What the transport needs from a signal codec: one signal, a batch, and a
 * batch back. actor-core's `SignalCodec` (msgpackr with Pid/Ref extension
 * types) is the default; the option exists for tests and future formats.
 */
export interface WireCodec {
  /** Throws for a payload that cannot be encoded. */
  encode(s: Signal): Uint8Array;
  /** Throws if any signal cannot be encoded. */
  encodeMany(signals: readonly Signal[]): Uint8Array;
  /** Never throws. `ends`: this node (`local`) and the peer that sent the bytes. */
  decodeMany(bytes: Uint8Array, ends: CodecEnds): DecodeManyResult;
  /** Optional fast path (never throws): a checked frame whose sends reach processes without Signal objects. */
  decodeFrame?(bytes: Uint8Array, ends: CodecEnds): DecodeFrameResult;
}

export function defaultCodec(): WireCodec {
  return new SignalCodec();
}
