// `@troupe/registry-crdt/engine`: the delta-CRDT engine beneath Replica and
// the messages replicas exchange — for benchmarks and tools that drive the
// engine directly. Applications use the main entry.
export { SyncEngine } from './crdt/engine.js';
export type { EngineOptions, PeerSyncInfo } from './crdt/engine-options.js';
export {
  type WriterIncarnation,
  type OriginKey,
  type Entry,
  type SyncMsg,
  type WireOp,
  type WireEntry,
  type Seen,
  type Out,
  originKey,
} from './crdt/types.js';
export { parseSyncMsg } from './crdt/validate.js';
export { type Envelope, isEnvelope, serverName, serviceKey } from './sync/envelope.js';
