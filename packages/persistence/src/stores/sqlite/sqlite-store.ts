import type Database from 'better-sqlite3';
import { RevisionConflictError, SequenceConflictError, StoreError } from '../../errors.js';
import { decodeStored, encode } from '../../serialization/codec.js';
import type { AppendRequest, Journal, PersistedEvent, ProcessedCommand, ProcessedRetention } from '../../store/journal.js';
import type { SnapshotCriteria, SnapshotMeta, SnapshotStore, StoredSnapshot } from '../../store/snapshot-store.js';
import type { DurableStateStore, StoredState } from '../../store/durable-state-store.js';
import type { PersistenceStore } from '../../store/store.js';
import { WriteGroup, settleInTurns } from '../../internal/write-group.js';
import { openDatabase, Queries, type OpenOptions, type WriteOp } from './queries.js';
import { encodeAppend, type PendingAppend } from '../../internal/encoded-append.js';
import { clampSeq, snapshotBounds } from '../../internal/criteria.js';
import { InlineWriter, WorkerWriter, type Writer } from './writer.js';

/**
 * How hard a commit is pushed to disk (SQLite's `synchronous`, in WAL mode).
 * A process crash loses nothing acknowledged at any level. On a power
 * failure or OS crash:
 * - `full`: the WAL is fsynced at every commit; nothing acknowledged is lost
 *   (on a disk that honours fsync).
 * - `normal` (default): the WAL is fsynced only at checkpoints; the last
 *   acknowledged commits (since the last checkpoint) may be rolled back,
 *   the file is never corrupted.
 * - `off`: no fsync at all; recent commits may be lost and the file can be corrupted.
 */
export type SqliteDurability = 'full' | 'normal' | 'off';

export interface SqliteStoreOptions {
  /** A file path, or `':memory:'` (then the writer is inline: a worker cannot share it). */
  path: string;
  durability?: SqliteDurability;
  /**
   * Where writes run.
   * - `worker` (default for files): a writer thread with its own connection
   *   (it also runs SQLite's checkpoints), so no fsync ever blocks the event
   *   loop; each commit costs a thread round trip (tens of µs).
   * - `inline`: on the calling thread, no hop; every fsync (each commit
   *   under `full`, each checkpoint under `normal`) blocks the event loop —
   *   measured on the project machine: stalls of 40–300 ms.
   * A checkpointer thread beside an inline writer was tried: under sustained
   * writes its passive checkpoints never catch up, so the WAL never restarts
   * and grows without bound.
   */
  writer?: 'worker' | 'inline';
  /** ms a writer waits for another process's lock (node processes may share one file). Default 5000. */
  busyTimeoutMs?: number;
}


/**
 * SQLite in WAL mode: the embedded default. Appends from every server that
 * persists in the same turn are committed in one transaction (one fsync
 * under `full`); each append resolves after that commit. Reads run on the
 * calling thread (WAL readers never wait for the writer); writes on the
 * writer (see `writer`). Several processes may share one file.
 */
export class SqliteStore implements PersistenceStore {
  readonly journal: Journal;
  readonly snapshots: SnapshotStore;
  readonly states: DurableStateStore;
  private readonly db: Database.Database;
  private readonly writer: Writer;
  private readonly appends: WriteGroup<PendingAppend>;
  private closed = false;

  constructor(opts: SqliteStoreOptions) {
    const open: OpenOptions = {
      path: opts.path,
      synchronous: (opts.durability ?? 'normal').toUpperCase() as OpenOptions['synchronous'],
      busyTimeoutMs: opts.busyTimeoutMs ?? 5000,
    };
    this.db = openDatabase(open);
    const q = new Queries(this.db);
    const inline = opts.writer === 'inline' || opts.path === ':memory:' || opts.path === '';
    const writer = (this.writer = inline ? new InlineWriter(q) : new WorkerWriter(open));
    this.appends = new WriteGroup<PendingAppend>(
      async (group) => {
        let outcomes: boolean[];
        try {
          outcomes = ((await writer.write({ op: 'append', appends: group.map((w) => w.enc) })) as { outcomes: boolean[] }).outcomes;
        } catch (e) {
          for (const w of group) w.reject(e);
          return;
        }
        settleInTurns(group, (w, i) => (outcomes[i] ? w.resolve() : w.reject(new SequenceConflictError(w.req.id, w.req.expectedSeq))));
      },
      (group, e) => {
        for (const w of group) w.reject(e);
      },
      // Inline, a group is a synchronous transaction: 256 appends keep it a few ms.
      inline ? 1 : 2,
      inline ? 256 : 4096,
      inline,
    );
    const ctx: StoreContext = { q, write: (w) => this.write(w), guard: this.guard };
    this.journal = new SqliteJournal(ctx, this.appends);
    this.snapshots = new SqliteSnapshots(ctx);
    this.states = new SqliteStates(ctx);
  }

  private write(w: WriteOp): Promise<number> {
    if (this.closed) return Promise.reject(new StoreError('store is closed'));
    return this.writer.write(w).then((r) => (r as { changes: number }).changes);
  }

  private readonly guard = (): void => {
    if (this.closed) throw new StoreError('store is closed');
  };

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.appends.idle();
    await this.writer.close();
    this.db.close();
  }
}

interface StoreContext {
  q: Queries;
  write(w: WriteOp): Promise<number>;
  guard(): void;
}

function read<T>(ctx: StoreContext, f: () => T): Promise<T> {
  try {
    ctx.guard();
    return Promise.resolve(f());
  } catch (e) {
    return Promise.reject(e instanceof StoreError || (e as { code?: unknown }).code !== undefined ? e : new StoreError(String(e), e));
  }
}

class SqliteJournal implements Journal {
  constructor(
    private readonly ctx: StoreContext,
    private readonly appends: WriteGroup<PendingAppend>,
  ) {}

  append(req: AppendRequest): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.ctx.guard();
      this.appends.add({ req, enc: encodeAppend(req), resolve, reject });
    });
  }

  replay(id: string, fromSeq: number, toSeq: number, max: number): Promise<PersistedEvent[]> {
    return read(this.ctx, () => {
      if (max <= 0 || fromSeq > toSeq) return [];
      const rows = this.ctx.q.replay.all(id, clampSeq(fromSeq), clampSeq(toSeq), clampSeq(max));
      const out: PersistedEvent[] = new Array(rows.length);
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i]!;
        out[i] = { seq: r[0], version: r[1], writtenAt: r[2], event: decodeStored(id, r[0], r[3]) };
      }
      return out;
    });
  }

  highestSeq(id: string): Promise<number> {
    return read(this.ctx, () => this.ctx.q.head.get(id) ?? 0);
  }

  async deleteTo(id: string, toSeq: number): Promise<void> {
    await this.ctx.write({ op: 'deleteTo', id, toSeq: clampSeq(toSeq) });
  }

  processed(id: string, keep: ProcessedRetention): Promise<ProcessedCommand[]> {
    return read(this.ctx, () =>
      this.ctx.q.processed.all(id, keep.since, clampSeq(keep.count)).map((r) => ({ messageId: r[0], reply: decodeStored(id, r[2], r[1]), seq: r[2], at: r[3] })),
    );
  }

  async pruneProcessed(id: string, keep: ProcessedRetention): Promise<void> {
    await this.ctx.write({ op: 'pruneProcessed', id, since: keep.since, count: clampSeq(keep.count) });
  }
}

class SqliteSnapshots implements SnapshotStore {
  constructor(private readonly ctx: StoreContext) {}

  async save(id: string, meta: SnapshotMeta, state: unknown): Promise<void> {
    await this.ctx.write({ op: 'saveSnapshot', id, seq: meta.seq, at: meta.at, version: meta.version, payload: encode(state) });
  }

  latest(id: string, criteria: SnapshotCriteria = {}): Promise<StoredSnapshot | undefined> {
    return read(this.ctx, () => {
      const r = this.ctx.q.latestSnapshot.get(id, ...snapshotBounds(criteria));
      return r === undefined ? undefined : { seq: r[0], at: r[1], version: r[2], state: decodeStored(id, r[0], r[3]) };
    });
  }

  delete(id: string, seq: number): Promise<void> {
    return this.deleteMatching(id, { minSeq: seq, maxSeq: seq });
  }

  async deleteMatching(id: string, criteria: SnapshotCriteria): Promise<void> {
    await this.ctx.write({ op: 'deleteSnapshots', id, bounds: snapshotBounds(criteria) });
  }
}

class SqliteStates implements DurableStateStore {
  constructor(private readonly ctx: StoreContext) {}

  get(id: string): Promise<StoredState | undefined> {
    return read(this.ctx, () => {
      const r = this.ctx.q.getState.get(id);
      return r === undefined ? undefined : { revision: r[0], version: r[1], state: decodeStored(id, r[0], r[2]) };
    });
  }

  async upsert(id: string, expectedRevision: number, state: unknown, version: number): Promise<number> {
    const payload = encode(state);
    const at = Date.now();
    const changed =
      expectedRevision === 0
        ? await this.ctx.write({ op: 'insertState', id, version, at, payload })
        : await this.ctx.write({ op: 'updateState', id, expectedRevision, version, at, payload });
    if (changed !== 1) throw new RevisionConflictError(id, expectedRevision);
    return expectedRevision + 1;
  }

  async delete(id: string, expectedRevision: number): Promise<void> {
    const deleted = (await this.ctx.write({ op: 'deleteState', id, expectedRevision })) === 1;
    if (!deleted && !(expectedRevision === 0 && this.ctx.q.getState.get(id) === undefined)) throw new RevisionConflictError(id, expectedRevision);
  }
}
