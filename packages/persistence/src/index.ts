export { eventSourced } from './event-sourced/event-sourced.js';
export type {
  EventSourcedBehaviour,
  EventSourcedOptions,
  EventSourcedState,
  Effect,
  CommandEffect,
  DeliveryMeta,
  DeliveryEffect,
  ProcessedIdRetention,
  PersistFailed,
} from './event-sourced/types.js';
export { durableState } from './durable-state/durable-state.js';
export type { DurableStateBehaviour, DurableStateOptions, DurableStateServerState, StateEffect, StateCommandEffect } from './durable-state/types.js';
export { setMaxConcurrentRecoveries, DEFAULT_MAX_RECOVERIES } from './internal/recovery-limiter.js';
export type { Journal, AppendRequest, EventToWrite, PersistedEvent, ProcessedCommand, ProcessedRetention } from './store/journal.js';
export type { SnapshotStore, SnapshotMeta, StoredSnapshot, SnapshotCriteria } from './store/snapshot-store.js';
export type { DurableStateStore, StoredState } from './store/durable-state-store.js';
export type { PersistenceStore } from './store/store.js';
export { meteredStore, type MeteredStore } from './store/metered-store.js';
export { MemoryStore } from './stores/memory/memory-store.js';
export {
  SequenceConflictError,
  RevisionConflictError,
  SerializationError,
  DeserializationError,
  StoreError,
  RecoveryTimeoutError,
  DeliveryBufferFullError,
  ProducerStoppedError,
} from './errors.js';
export { ReliableProducer, type ReliableProducerOptions, type ProducerStats, type DeliveryLocator, type DeliveryTarget } from './delivery/producer.js';
