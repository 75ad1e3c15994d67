import pg from 'pg';
import { RevisionConflictError, SequenceConflictError, StoreError } from '../../errors.js';
import { decodeStored, encode } from '../../serialization/codec.js';
import type { AppendRequest, Journal, PersistedEvent, ProcessedCommand, ProcessedRetention } from '../../store/journal.js';
import type { SnapshotCriteria, SnapshotMeta, SnapshotStore, StoredSnapshot } from '../../store/snapshot-store.js';
import type { DurableStateStore, StoredState } from '../../store/durable-state-store.js';
import type { PersistenceStore } from '../../store/store.js';
import { WriteGroup, settleInTurns } from '../../internal/write-group.js';
import { PG_APPEND, PG_SCHEMA, SCHEMA_LOCK } from './schema.js';
import { encodeAppend, type PendingAppend } from '../../internal/encoded-append.js';
import { clampSeq, snapshotBounds } from '../../internal/criteria.js';

export interface PostgresStoreOptions {
  /** `postgres://user:pass@host:port/db`, or the parts below. */
  connectionString?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  /** Connections in the pool (reads and writes). Default 4. */
  poolSize?: number;
  /** Append groups committing at once. Default 2: one fills while one commits. */
  writesInFlight?: number;
}

const UNIQUE_VIOLATION = '23505';

function storeError(e: unknown): StoreError {
  return e instanceof StoreError ? e : new StoreError(`PostgreSQL: ${e instanceof Error ? e.message : String(e)}`, e);
}

/**
 * PostgreSQL, for stores shared by nodes on several hosts. Appends from
 * every server persisting at once become one multi-row statement (one round
 * trip, one commit, any number of ids); each append resolves only after that
 * statement — and so its COMMIT — returned. A batch that acknowledged before
 * commit would report writes a crash then loses.
 */
export class PostgresStore implements PersistenceStore {
  readonly journal: Journal;
  readonly snapshots: SnapshotStore;
  readonly states: DurableStateStore;
  private readonly writes: WriteGroup<PendingAppend>;
  private closed = false;

  private constructor(private readonly pool: pg.Pool, writesInFlight: number) {
    this.writes = new WriteGroup<PendingAppend>(
      (group) => this.commit(group),
      (group, e) => {
        for (const w of group) w.reject(storeError(e));
      },
      writesInFlight,
    );
    const q = (text: string, values: unknown[]): Promise<pg.QueryResult> => {
      if (this.closed) return Promise.reject(new StoreError('store is closed'));
      return this.pool.query(text, values).catch((e: unknown) => Promise.reject(storeError(e)));
    };
    this.journal = new PostgresJournal(q, this.writes, () => this.closed);
    this.snapshots = new PostgresSnapshots(q);
    this.states = new PostgresStates(q);
  }

  /** Connects and creates the tables if missing. */
  static async open(opts: PostgresStoreOptions): Promise<PostgresStore> {
    const pool = new pg.Pool({
      connectionString: opts.connectionString,
      host: opts.host,
      port: opts.port,
      user: opts.user,
      password: opts.password,
      database: opts.database,
      max: opts.poolSize ?? 4,
    });
    // An idle client's connection error would otherwise be an unhandled 'error' event (a crash).
    pool.on('error', () => undefined);
    try {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        await c.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
        await c.query(PG_SCHEMA);
        await c.query('COMMIT');
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        c.release();
      }
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw storeError(e);
    }
    return new PostgresStore(pool, opts.writesInFlight ?? 2);
  }

  private async commit(all: PendingAppend[]): Promise<void> {
    // Two appends for one id in one statement would both see the old head:
    // the later one waits for the next group (its conflict is then decided in order).
    const seen = new Set<string>();
    const group: PendingAppend[] = [];
    const later: PendingAppend[] = [];
    for (const w of all) {
      if (w.req.events.length > 0 && seen.has(w.req.id)) later.push(w);
      else {
        if (w.req.events.length > 0) seen.add(w.req.id);
        group.push(w);
      }
    }
    for (const w of later) this.writes.add(w);
    try {
      await this.run(group);
    } catch (e) {
      // A unique violation in a group (heads and events disagree: a foreign
      // writer) fails the whole statement; retried one by one, it fails only its own append.
      if ((e as { code?: unknown }).code === UNIQUE_VIOLATION && group.length > 1) {
        await Promise.all(group.map((w) => this.run([w]).catch((e1: unknown) => w.reject(storeError(e1)))));
        return;
      }
      for (const w of group) w.reject(storeError(e));
    }
  }

  /** One statement for the group; settles each append by whether its id won. */
  private async run(group: PendingAppend[]): Promise<void> {
    const ids: string[] = [];
    const expected: number[] = [];
    const heads: number[] = [];
    const evId: string[] = [];
    const evSeq: number[] = [];
    const evVersion: number[] = [];
    const evPayload: Uint8Array[] = [];
    const pId: string[] = [];
    const pMid: string[] = [];
    const pSeq: number[] = [];
    const pReply: Uint8Array[] = [];
    const pAlways: boolean[] = [];
    for (const w of group) {
      const { id, expectedSeq, events, processed } = w.req;
      if (events.length > 0) {
        ids.push(id);
        expected.push(expectedSeq);
        heads.push(expectedSeq + events.length);
        for (let i = 0; i < events.length; i++) {
          evId.push(id);
          evSeq.push(expectedSeq + 1 + i);
          evVersion.push(events[i]!.version);
          evPayload.push(w.enc.payloads[i]!);
        }
      }
      if (processed !== undefined) {
        pId.push(id);
        pMid.push(processed.messageId);
        pSeq.push(expectedSeq + events.length);
        pReply.push(w.enc.reply!);
        pAlways.push(events.length === 0);
      }
    }
    const values = [ids, expected, heads, evId, evSeq, evVersion, evPayload.map(toBuffer), Date.now(), pId, pMid, pSeq, pReply.map(toBuffer), pAlways];
    const r = await this.pool.query<{ id: string }>({ name: 'troupe_append', text: PG_APPEND, values });
    const won = new Set(r.rows.map((row) => row.id));
    settleInTurns(group, (w) => (w.req.events.length === 0 || won.has(w.req.id) ? w.resolve() : w.reject(new SequenceConflictError(w.req.id, w.req.expectedSeq))));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writes.idle();
    await this.pool.end();
  }
}

function toBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

type Query = (text: string, values: unknown[]) => Promise<pg.QueryResult>;

class PostgresJournal implements Journal {
  constructor(
    private readonly q: Query,
    private readonly writes: WriteGroup<PendingAppend>,
    private readonly isClosed: () => boolean,
  ) {}

  append(req: AppendRequest): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.isClosed()) throw new StoreError('store is closed');
      this.writes.add({ req, enc: encodeAppend(req), resolve, reject });
    });
  }

  async replay(id: string, fromSeq: number, toSeq: number, max: number): Promise<PersistedEvent[]> {
    if (max <= 0 || fromSeq > toSeq) return [];
    const r = await this.q(
      'SELECT seq::float8 AS seq, version, written_at::float8 AS at, payload FROM troupe_journal WHERE id = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq LIMIT $4',
      [id, clampSeq(fromSeq), clampSeq(toSeq), clampSeq(max)],
    );
    return r.rows.map((row: { seq: number; version: number; at: number; payload: Buffer }) => ({
      seq: row.seq,
      version: row.version,
      writtenAt: row.at,
      event: decodeStored(id, row.seq, row.payload),
    }));
  }

  async highestSeq(id: string): Promise<number> {
    const r = await this.q('SELECT seq::float8 AS seq FROM troupe_journal_heads WHERE id = $1', [id]);
    return (r.rows[0] as { seq: number } | undefined)?.seq ?? 0;
  }

  async deleteTo(id: string, toSeq: number): Promise<void> {
    await this.q('DELETE FROM troupe_journal WHERE id = $1 AND seq <= $2', [id, clampSeq(toSeq)]);
  }

  async processed(id: string, keep: ProcessedRetention): Promise<ProcessedCommand[]> {
    const r = await this.q(
      'SELECT message_id, reply, seq::float8 AS seq, at::float8 AS at FROM troupe_processed WHERE id = $1 AND at >= $2 ORDER BY n DESC LIMIT $3',
      [id, clampSeq(keep.since), clampSeq(keep.count)],
    );
    return r.rows.map((row: { message_id: string; reply: Buffer; seq: number; at: number }) => ({
      messageId: row.message_id,
      reply: decodeStored(id, row.seq, row.reply),
      seq: row.seq,
      at: row.at,
    }));
  }

  async pruneProcessed(id: string, keep: ProcessedRetention): Promise<void> {
    await this.q(
      'DELETE FROM troupe_processed WHERE id = $1 AND (at < $2 OR n NOT IN (SELECT n FROM troupe_processed WHERE id = $1 ORDER BY n DESC LIMIT $3))',
      [id, clampSeq(keep.since), clampSeq(keep.count)],
    );
  }
}

class PostgresSnapshots implements SnapshotStore {
  constructor(private readonly q: Query) {}

  async save(id: string, meta: SnapshotMeta, state: unknown): Promise<void> {
    const bytes = toBuffer(encode(state));
    await this.q(
      'INSERT INTO troupe_snapshots (id, seq, at, version, payload) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id, seq) DO UPDATE SET at = excluded.at, version = excluded.version, payload = excluded.payload',
      [id, meta.seq, meta.at, meta.version, bytes],
    );
  }

  async latest(id: string, criteria: SnapshotCriteria = {}): Promise<StoredSnapshot | undefined> {
    const r = await this.q(
      'SELECT seq::float8 AS seq, at::float8 AS at, version, payload FROM troupe_snapshots WHERE id = $1 AND seq >= $2 AND seq <= $3 AND at >= $4 AND at <= $5 ORDER BY seq DESC LIMIT 1',
      [id, ...snapshotBounds(criteria)],
    );
    const row = r.rows[0] as { seq: number; at: number; version: number; payload: Buffer } | undefined;
    return row === undefined ? undefined : { seq: row.seq, at: row.at, version: row.version, state: decodeStored(id, row.seq, row.payload) };
  }

  delete(id: string, seq: number): Promise<void> {
    return this.deleteMatching(id, { minSeq: seq, maxSeq: seq });
  }

  async deleteMatching(id: string, criteria: SnapshotCriteria): Promise<void> {
    await this.q('DELETE FROM troupe_snapshots WHERE id = $1 AND seq >= $2 AND seq <= $3 AND at >= $4 AND at <= $5', [id, ...snapshotBounds(criteria)]);
  }
}

/** Ids per read statement at most (one `= ANY($1)` array). */
const READ_BATCH = 500;

interface PendingRead {
  resolve(s: StoredState | undefined): void;
  reject(e: unknown): void;
}

class PostgresStates implements DurableStateStore {
  /**
   * Reads asked for in one turn of the event loop go out together, as one
   * statement per READ_BATCH ids: a restart storm (thousands of durable
   * servers recovering on one node, 32 at a time) costs a round trip per
   * group instead of one per id (10k durable-state recoveries on one
   * survivor, test/recovery-storm.test.ts on the 2-core box: 2.9 s → 0.7 s).
   * Each read resolves with the row as of its statement.
   */
  private pending = new Map<string, PendingRead[]>();
  private scheduled = false;

  constructor(private readonly q: Query) {}

  get(id: string): Promise<StoredState | undefined> {
    return new Promise((resolve, reject) => {
      const waiting = this.pending.get(id);
      if (waiting !== undefined) waiting.push({ resolve, reject });
      else this.pending.set(id, [{ resolve, reject }]);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const all = [...this.pending];
    this.pending = new Map();
    for (let i = 0; i < all.length; i += READ_BATCH) void this.read(all.slice(i, i + READ_BATCH));
  }

  private async read(group: [string, PendingRead[]][]): Promise<void> {
    let rows: { id: string; revision: number; version: number; payload: Buffer }[];
    try {
      const r = await this.q('SELECT id, revision::float8 AS revision, version, payload FROM troupe_states WHERE id = ANY($1::text[])', [group.map(([id]) => id)]);
      rows = r.rows as typeof rows;
    } catch (e) {
      for (const [, ws] of group) for (const w of ws) w.reject(e);
      return;
    }
    const byId = new Map(rows.map((row) => [row.id, row]));
    for (const [id, ws] of group) {
      const row = byId.get(id);
      // Decoded per reader: two readers of one id never share a state object.
      for (const w of ws) {
        try {
          w.resolve(row === undefined ? undefined : { revision: row.revision, version: row.version, state: decodeStored(id, row.revision, row.payload) });
        } catch (e) {
          w.reject(e);
        }
      }
    }
  }

  async upsert(id: string, expectedRevision: number, state: unknown, version: number): Promise<number> {
    const bytes = toBuffer(encode(state));
    const r =
      expectedRevision === 0
        ? await this.q('INSERT INTO troupe_states (id, revision, version, at, payload) VALUES ($1, 1, $2, $3, $4) ON CONFLICT (id) DO NOTHING', [id, version, Date.now(), bytes])
        : await this.q('UPDATE troupe_states SET revision = revision + 1, version = $2, at = $3, payload = $4 WHERE id = $1 AND revision = $5', [
            id,
            version,
            Date.now(),
            bytes,
            expectedRevision,
          ]);
    if (r.rowCount !== 1) throw new RevisionConflictError(id, expectedRevision);
    return expectedRevision + 1;
  }

  async delete(id: string, expectedRevision: number): Promise<void> {
    if (expectedRevision === 0) {
      const r = await this.q('SELECT 1 FROM troupe_states WHERE id = $1', [id]);
      if (r.rowCount === 0) return;
      throw new RevisionConflictError(id, expectedRevision);
    }
    const r = await this.q('DELETE FROM troupe_states WHERE id = $1 AND revision = $2', [id, expectedRevision]);
    if (r.rowCount !== 1) throw new RevisionConflictError(id, expectedRevision);
  }
}
