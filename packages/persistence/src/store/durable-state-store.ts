export interface StoredState {
  /** 1 after the first write, +1 per write. */
  readonly revision: number;
  readonly state: unknown;
  readonly version: number;
}

/**
 * Whole states with a revision (an optimistic lock). `upsert` with
 * `expectedRevision` 0 creates; otherwise it replaces the state only if its
 * revision is still `expectedRevision`, and resolves to the new revision.
 * A stale revision rejects RevisionConflictError: of two writers of one id
 * exactly one wins. `delete` (also a compare-and-set) removes the state
 * entirely: the next write creates it again with `expectedRevision` 0.
 */
export interface DurableStateStore {
  get(id: string): Promise<StoredState | undefined>;
  upsert(id: string, expectedRevision: number, state: unknown, version: number): Promise<number>;
  delete(id: string, expectedRevision: number): Promise<void>;
}
