import { RevisionConflictError, SequenceConflictError, StoreError } from '../../errors.js';
import { decode, decodeStored, encode } from '../../serialization/codec.js';
import type { AppendRequest, Journal, PersistedEvent, ProcessedCommand, ProcessedRetention } from '../../store/journal.js';
import type { SnapshotCriteria, SnapshotMeta, SnapshotStore, StoredSnapshot } from '../../store/snapshot-store.js';
import type { DurableStateStore, StoredState } from '../../store/durable-state-store.js';
import type { PersistenceStore } from '../../store/store.js';
import { matchesSnapshot, retainedProcessed } from '../../internal/criteria.js';

interface Row {
  seq: number;
  version: number;
  writtenAt: number;
  bytes: Uint8Array;
}

interface Stream {
  rows: Row[];
  highest: number;
  processed: Map<string, { reply: Uint8Array; seq: number; at: number }>;
}

/**
 * Everything in this process's memory, encoded as the durable stores encode
 * (so what is rejected or changed by msgpack is the same): for tests, and
 * for servers that need the persistence API without durability. `open()`
 * gives another store over the same data, as a second connection would.
 */
export class MemoryStore implements PersistenceStore {
  readonly journal: Journal;
  readonly snapshots: SnapshotStore;
  readonly states: DurableStateStore;
  private closed = false;

  constructor(private readonly data: MemoryData = new MemoryData()) {
    this.journal = new MemoryJournal(data, this.guard);
    this.snapshots = new MemorySnapshots(data, this.guard);
    this.states = new MemoryStates(data, this.guard);
  }

  /** A second store over the same data. */
  open(): MemoryStore {
    return new MemoryStore(this.data);
  }

  private readonly guard = (): void => {
    if (this.closed) throw new StoreError('store is closed');
  };

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

/** The shared tables of one or more MemoryStores. */
export class MemoryData {
  readonly streams = new Map<string, Stream>();
  readonly snapshots = new Map<string, { meta: SnapshotMeta; bytes: Uint8Array }[]>();
  readonly states = new Map<string, { revision: number; version: number; bytes: Uint8Array }>();
}

type Guard = () => void;

/** Runs `f` now and settles on a later microtask, as an I/O-backed store would. */
function later<T>(guard: Guard, f: () => T): Promise<T> {
  try {
    guard();
    return Promise.resolve(f());
  } catch (e) {
    return Promise.reject(e);
  }
}

class MemoryJournal implements Journal {
  constructor(
    private readonly data: MemoryData,
    private readonly guard: Guard,
  ) {}

  private stream(id: string): Stream {
    let s = this.data.streams.get(id);
    if (s === undefined) this.data.streams.set(id, (s = { rows: [], highest: 0, processed: new Map() }));
    return s;
  }

  append(req: AppendRequest): Promise<void> {
    return later(this.guard, () => {
      // Encode first: a rejected value leaves nothing written.
      const bytes = req.events.map((e) => encode(e.event));
      const reply = req.processed === undefined ? undefined : encode(req.processed.reply);
      const s = this.stream(req.id);
      if (req.events.length > 0 && s.highest !== req.expectedSeq) throw new SequenceConflictError(req.id, req.expectedSeq);
      const at = Date.now();
      for (let i = 0; i < bytes.length; i++) s.rows.push({ seq: req.expectedSeq + 1 + i, version: req.events[i]!.version, writtenAt: at, bytes: bytes[i]! });
      s.highest += bytes.length;
      // A message id already recorded keeps its first record (Map order: oldest first).
      if (req.processed !== undefined && !s.processed.has(req.processed.messageId)) {
        s.processed.set(req.processed.messageId, { reply: reply!, seq: s.highest, at });
      }
    });
  }

  replay(id: string, fromSeq: number, toSeq: number, max: number): Promise<PersistedEvent[]> {
    return later(this.guard, () => {
      const out: PersistedEvent[] = [];
      const s = this.data.streams.get(id);
      if (s === undefined) return out;
      for (const r of s.rows) {
        if (out.length >= max) break;
        if (r.seq < fromSeq) continue;
        if (r.seq > toSeq) break;
        out.push({ seq: r.seq, event: decodeStored(id, r.seq, r.bytes), version: r.version, writtenAt: r.writtenAt });
      }
      return out;
    });
  }

  highestSeq(id: string): Promise<number> {
    return later(this.guard, () => this.data.streams.get(id)?.highest ?? 0);
  }

  deleteTo(id: string, toSeq: number): Promise<void> {
    return later(this.guard, () => {
      const s = this.data.streams.get(id);
      if (s !== undefined) s.rows = s.rows.filter((r) => r.seq > toSeq);
    });
  }

  processed(id: string, keep: ProcessedRetention): Promise<ProcessedCommand[]> {
    return later(this.guard, () => {
      const s = this.data.streams.get(id);
      if (s === undefined) return [];
      const all = [...s.processed].map(([messageId, p]) => ({ messageId, reply: p.reply, seq: p.seq, at: p.at })).reverse();
      return retainedProcessed(all, keep).map((p) => ({ ...p, reply: decode(p.reply) }));
    });
  }

  pruneProcessed(id: string, keep: ProcessedRetention): Promise<void> {
    return later(this.guard, () => {
      const s = this.data.streams.get(id);
      if (s === undefined) return;
      const all = [...s.processed].map(([messageId, p]) => ({ messageId, ...p })).reverse();
      const kept = new Set(retainedProcessed(all, keep).map((p) => p.messageId));
      for (const k of [...s.processed.keys()]) if (!kept.has(k)) s.processed.delete(k);
    });
  }
}

class MemorySnapshots implements SnapshotStore {
  constructor(
    private readonly data: MemoryData,
    private readonly guard: Guard,
  ) {}

  save(id: string, meta: SnapshotMeta, state: unknown): Promise<void> {
    return later(this.guard, () => {
      const bytes = encode(state);
      const list = (this.data.snapshots.get(id) ?? []).filter((s) => s.meta.seq !== meta.seq);
      list.push({ meta: { seq: meta.seq, at: meta.at, version: meta.version }, bytes });
      list.sort((a, b) => a.meta.seq - b.meta.seq);
      this.data.snapshots.set(id, list);
    });
  }

  latest(id: string, criteria: SnapshotCriteria = {}): Promise<StoredSnapshot | undefined> {
    return later(this.guard, () => {
      const list = this.data.snapshots.get(id) ?? [];
      for (let i = list.length - 1; i >= 0; i--) {
        const s = list[i]!;
        if (matchesSnapshot(s.meta, criteria)) return { ...s.meta, state: decodeStored(id, s.meta.seq, s.bytes) };
      }
      return undefined;
    });
  }

  delete(id: string, seq: number): Promise<void> {
    return this.deleteMatching(id, { minSeq: seq, maxSeq: seq });
  }

  deleteMatching(id: string, criteria: SnapshotCriteria): Promise<void> {
    return later(this.guard, () => {
      const list = this.data.snapshots.get(id);
      if (list !== undefined) this.data.snapshots.set(id, list.filter((s) => !matchesSnapshot(s.meta, criteria)));
    });
  }
}

class MemoryStates implements DurableStateStore {
  constructor(
    private readonly data: MemoryData,
    private readonly guard: Guard,
  ) {}

  get(id: string): Promise<StoredState | undefined> {
    return later(this.guard, () => {
      const s = this.data.states.get(id);
      return s === undefined ? undefined : { revision: s.revision, version: s.version, state: decodeStored(id, s.revision, s.bytes) };
    });
  }

  upsert(id: string, expectedRevision: number, state: unknown, version: number): Promise<number> {
    return later(this.guard, () => {
      const bytes = encode(state);
      const cur = this.data.states.get(id)?.revision ?? 0;
      if (cur !== expectedRevision) throw new RevisionConflictError(id, expectedRevision);
      this.data.states.set(id, { revision: cur + 1, version, bytes });
      return cur + 1;
    });
  }

  delete(id: string, expectedRevision: number): Promise<void> {
    return later(this.guard, () => {
      const cur = this.data.states.get(id)?.revision ?? 0;
      if (cur !== expectedRevision) throw new RevisionConflictError(id, expectedRevision);
      this.data.states.delete(id);
    });
  }
}
