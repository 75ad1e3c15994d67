import Database from 'better-sqlite3';
import { RevisionConflictError, SequenceConflictError, StoreError } from '../../errors.js';
import { decodeStored, encode } from '../../serialization/codec.js';
import type { AppendRequest, Journal, PersistedEvent, ProcessedCommand, ProcessedRetention } from '../../store/journal.js';
import type { SnapshotCriteria, SnapshotMeta, SnapshotStore, StoredSnapshot } from '../../store/snapshot-store.js';
import type { DurableStateStore, StoredState } from '../../store/durable-state-store.js';
import type { PersistenceStore } from '../../store/store.js';
import { WriteGroup } from '../../internal/write-group.js';
import { SQLITE_SCHEMA } from './schema.js';

/**
 * How hard a commit is pushed to disk (SQLite's `synchronous`, in WAL mode).
 * What each loses — a process crash loses nothing acknowledged at any level:
 * - `full`: the WAL is fsynced at every commit; a power failure or OS crash
 *   loses nothing acknowledged (on a disk that honours fsync).
 * - `normal` (default): the WAL is fsynced only at checkpoints; a power
 *   failure or OS crash may roll back the last acknowledged commits (since
 *   the last checkpoint), never corrupting the file.
 * - `off`: no fsync at all; a power failure or OS crash may lose recent
 *   commits and can corrupt the file.
 */
export type SqliteDurability = 'full' | 'normal' | 'off';

export interface SqliteStoreOptions {
  /** A file path, or `':memory:'`. */
  path: string;
  durability?: SqliteDurability;
  /** ms a writer waits for another process's lock (several node processes may share one file). Default 5000. */
  busyTimeoutMs?: number;
}

interface PendingAppend {
  req: AppendRequest;
  bytes: Uint8Array[];
  reply: Uint8Array | undefined;
  resolve: () => void;
  reject: (e: unknown) => void;
}

const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/**
 * SQLite in WAL mode: the embedded default. Appends from every server that
 * persists in the same turn are committed in one transaction (one fsync under
 * `full`), and each append resolves after that commit. Writes run on the
 * calling thread (better-sqlite3 is synchronous): measured on the target
 * machine an fsync'd commit blocks the event loop well under the 10 ms lag
 * budget (the `persistence.lag` bench figure), so no writer thread is needed.
 */
export class SqliteStore implements PersistenceStore {
  readonly journal: Journal;
  readonly snapshots: SnapshotStore;
  readonly states: DurableStateStore;
  private readonly db: Database.Database;
  private readonly writes: WriteGroup<PendingAppend>;
  private closed = false;

  constructor(opts: SqliteStoreOptions) {
    const db = (this.db = new Database(opts.path));
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${(opts.durability ?? 'normal').toUpperCase()}`);
    db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 5000}`);
    db.exec(SQLITE_SCHEMA);
    const q = new Queries(db);
    const commitGroup = db.transaction((group: PendingAppend[]) => group.map((w) => q.apply(w)));
    this.writes = new WriteGroup<PendingAppend>(
      (group) => {
        let outcomes: (Error | null)[];
        try {
          outcomes = commitGroup.immediate(group);
        } catch (e) {
          this.failAll(group, e);
          return;
        }
        for (let i = 0; i < group.length; i++) {
          const o = outcomes[i];
          if (o === null) group[i]!.resolve();
          else group[i]!.reject(o);
        }
      },
      (group, e) => this.failAll(group, e),
    );
    this.journal = new SqliteJournal(q, this.writes, this.guard);
    this.snapshots = new SqliteSnapshots(q, this.guard);
    this.states = new SqliteStates(q, this.guard);
  }

  private failAll(group: PendingAppend[], e: unknown): void {
    const err = new StoreError(`SQLite commit failed: ${e instanceof Error ? e.message : String(e)}`, e);
    for (const w of group) w.reject(err);
  }

  private readonly guard = (): void => {
    if (this.closed) throw new StoreError('store is closed');
  };

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writes.idle();
    this.db.close();
  }
}

/** The prepared statements, and one append applied inside the group's transaction. */
class Queries {
  readonly head;
  readonly setHead;
  readonly insertEvent;
  readonly insertProcessed;
  readonly replay;
  readonly deleteTo;
  readonly processed;
  readonly pruneProcessed;
  readonly saveSnapshot;
  readonly latestSnapshot;
  readonly deleteSnapshots;
  readonly getState;
  readonly insertState;
  readonly updateState;
  readonly deleteState;

  constructor(db: Database.Database) {
    this.head = db.prepare<[string], number>('SELECT seq FROM troupe_journal_heads WHERE id = ?').pluck();
    this.setHead = db.prepare('INSERT INTO troupe_journal_heads (id, seq) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq');
    this.insertEvent = db.prepare('INSERT INTO troupe_journal (id, seq, version, written_at, payload) VALUES (?, ?, ?, ?, ?)');
    this.insertProcessed = db.prepare('INSERT OR IGNORE INTO troupe_processed (id, message_id, seq, at, reply) VALUES (?, ?, ?, ?, ?)');
    this.replay = db
      .prepare<[string, number, number, number], [number, number, number, Buffer]>(
        'SELECT seq, version, written_at, payload FROM troupe_journal WHERE id = ? AND seq >= ? AND seq <= ? ORDER BY seq LIMIT ?',
      )
      .raw();
    this.deleteTo = db.prepare('DELETE FROM troupe_journal WHERE id = ? AND seq <= ?');
    this.processed = db
      .prepare<[string, number, number], [string, Buffer, number, number]>(
        'SELECT message_id, reply, seq, at FROM troupe_processed WHERE id = ? AND at >= ? ORDER BY rowid DESC LIMIT ?',
      )
      .raw();
    this.pruneProcessed = db.prepare(
      'DELETE FROM troupe_processed WHERE id = @id AND (at < @since OR rowid NOT IN (SELECT rowid FROM troupe_processed WHERE id = @id ORDER BY rowid DESC LIMIT @count))',
    );
    this.saveSnapshot = db.prepare('INSERT OR REPLACE INTO troupe_snapshots (id, seq, at, version, payload) VALUES (?, ?, ?, ?, ?)');
    this.latestSnapshot = db
      .prepare<[string, number, number, number, number], [number, number, number, Buffer]>(
        'SELECT seq, at, version, payload FROM troupe_snapshots WHERE id = ? AND seq >= ? AND seq <= ? AND at >= ? AND at <= ? ORDER BY seq DESC LIMIT 1',
      )
      .raw();
    this.deleteSnapshots = db.prepare('DELETE FROM troupe_snapshots WHERE id = ? AND seq >= ? AND seq <= ? AND at >= ? AND at <= ?');
    this.getState = db.prepare<[string], [number, number, Buffer]>('SELECT revision, version, payload FROM troupe_states WHERE id = ?').raw();
    this.insertState = db.prepare('INSERT INTO troupe_states (id, revision, version, at, payload) VALUES (?, 1, ?, ?, ?) ON CONFLICT (id) DO NOTHING');
    this.updateState = db.prepare('UPDATE troupe_states SET revision = revision + 1, version = ?, at = ?, payload = ? WHERE id = ? AND revision = ?');
    this.deleteState = db.prepare('DELETE FROM troupe_states WHERE id = ? AND revision = ?');
  }

  /** One append inside the open transaction: null when written, the error when refused (nothing of it written). */
  apply(w: PendingAppend): Error | null {
    const { id, expectedSeq, events } = w.req;
    const head = this.head.get(id) ?? 0;
    if (events.length > 0 && head !== expectedSeq) return new SequenceConflictError(id, expectedSeq);
    const at = Date.now();
    for (let i = 0; i < w.bytes.length; i++) this.insertEvent.run(id, expectedSeq + 1 + i, events[i]!.version, at, w.bytes[i]!);
    if (events.length > 0) this.setHead.run(id, expectedSeq + events.length);
    const p = w.req.processed;
    if (p !== undefined) this.insertProcessed.run(id, p.messageId, head + events.length, at, w.reply!);
    return null;
  }
}

type Guard = () => void;

function sync<T>(guard: Guard, f: () => T): Promise<T> {
  try {
    guard();
    return Promise.resolve(f());
  } catch (e) {
    return Promise.reject(e);
  }
}

function clamp(n: number): number {
  return n > MAX_SEQ ? MAX_SEQ : n < 0 ? 0 : Math.floor(n);
}

class SqliteJournal implements Journal {
  constructor(
    private readonly q: Queries,
    private readonly writes: WriteGroup<PendingAppend>,
    private readonly guard: Guard,
  ) {}

  append(req: AppendRequest): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.guard();
      // Encoded before it joins a group: a value that cannot be stored fails alone.
      const bytes = req.events.map((e) => encode(e.event));
      const reply = req.processed === undefined ? undefined : encode(req.processed.reply);
      this.writes.add({ req, bytes, reply, resolve, reject });
    });
  }

  replay(id: string, fromSeq: number, toSeq: number, max: number): Promise<PersistedEvent[]> {
    return sync(this.guard, () => {
      if (max <= 0 || fromSeq > toSeq) return [];
      const rows = this.q.replay.all(id, clamp(fromSeq), clamp(toSeq), clamp(max));
      const out: PersistedEvent[] = new Array(rows.length);
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i]!;
        out[i] = { seq: r[0], version: r[1], writtenAt: r[2], event: decodeStored(id, r[0], r[3]) };
      }
      return out;
    });
  }

  highestSeq(id: string): Promise<number> {
    return sync(this.guard, () => this.q.head.get(id) ?? 0);
  }

  deleteTo(id: string, toSeq: number): Promise<void> {
    return sync(this.guard, () => {
      this.q.deleteTo.run(id, clamp(toSeq));
    });
  }

  processed(id: string, keep: ProcessedRetention): Promise<ProcessedCommand[]> {
    return sync(this.guard, () =>
      this.q.processed.all(id, keep.since, clamp(keep.count)).map((r) => ({ messageId: r[0], reply: decodeStored(id, r[2], r[1]), seq: r[2], at: r[3] })),
    );
  }

  pruneProcessed(id: string, keep: ProcessedRetention): Promise<void> {
    return sync(this.guard, () => {
      this.q.pruneProcessed.run({ id, since: keep.since, count: clamp(keep.count) });
    });
  }
}

function bounds(c: SnapshotCriteria): [number, number, number, number] {
  return [clamp(c.minSeq ?? 0), clamp(c.maxSeq ?? MAX_SEQ), clamp(c.minAt ?? 0), clamp(c.maxAt ?? MAX_SEQ)];
}

class SqliteSnapshots implements SnapshotStore {
  constructor(
    private readonly q: Queries,
    private readonly guard: Guard,
  ) {}

  save(id: string, meta: SnapshotMeta, state: unknown): Promise<void> {
    return sync(this.guard, () => {
      this.q.saveSnapshot.run(id, meta.seq, meta.at, meta.version, encode(state));
    });
  }

  latest(id: string, criteria: SnapshotCriteria = {}): Promise<StoredSnapshot | undefined> {
    return sync(this.guard, () => {
      const r = this.q.latestSnapshot.get(id, ...bounds(criteria));
      return r === undefined ? undefined : { seq: r[0], at: r[1], version: r[2], state: decodeStored(id, r[0], r[3]) };
    });
  }

  delete(id: string, seq: number): Promise<void> {
    return this.deleteMatching(id, { minSeq: seq, maxSeq: seq });
  }

  deleteMatching(id: string, criteria: SnapshotCriteria): Promise<void> {
    return sync(this.guard, () => {
      this.q.deleteSnapshots.run(id, ...bounds(criteria));
    });
  }
}

class SqliteStates implements DurableStateStore {
  constructor(
    private readonly q: Queries,
    private readonly guard: Guard,
  ) {}

  get(id: string): Promise<StoredState | undefined> {
    return sync(this.guard, () => {
      const r = this.q.getState.get(id);
      return r === undefined ? undefined : { revision: r[0], version: r[1], state: decodeStored(id, r[0], r[2]) };
    });
  }

  upsert(id: string, expectedRevision: number, state: unknown, version: number): Promise<number> {
    return sync(this.guard, () => {
      const bytes = encode(state);
      const at = Date.now();
      const changed =
        expectedRevision === 0 ? this.q.insertState.run(id, version, at, bytes).changes : this.q.updateState.run(version, at, bytes, id, expectedRevision).changes;
      if (changed !== 1) throw new RevisionConflictError(id, expectedRevision);
      return expectedRevision + 1;
    });
  }

  delete(id: string, expectedRevision: number): Promise<void> {
    return sync(this.guard, () => {
      const deleted = this.q.deleteState.run(id, expectedRevision).changes === 1;
      if (!deleted && !(expectedRevision === 0 && this.q.getState.get(id) === undefined)) throw new RevisionConflictError(id, expectedRevision);
    });
  }
}
