import type { Journal } from './journal.js';
import type { SnapshotStore } from './snapshot-store.js';
import type { DurableStateStore } from './durable-state-store.js';

/** What every built-in store is: a journal, a snapshot store and a durable-state store over one backend. */
export interface PersistenceStore {
  readonly journal: Journal;
  readonly snapshots: SnapshotStore;
  readonly states: DurableStateStore;
  /** Waits for writes in flight, then releases the backend. Later calls reject StoreError. */
  close(): Promise<void>;
}
