// `@troupe/actor-core/wire`: what a transport author needs and an application
// does not — the Transport interface and the port a node hands it, the
// signals that cross between nodes, and their binary codec.
export type { Signal, SignalKind, Transport, TransportPort, PeerChannel } from './distribution/signals.js';
export {
  SignalCodec,
  SignalBatch,
  CodecError,
  DecodedFrame,
  PID_EXT,
  REF_EXT,
  KIND,
  CALL_NAME,
  SEND_RUN,
  MAX_NESTING,
  type CodecEnds,
  type DecodeResult,
  type DecodeManyResult,
  type FrameSink,
  type DecodeFrameResult,
} from './distribution/codec.js';
