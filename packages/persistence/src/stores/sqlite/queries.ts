import Database from 'better-sqlite3';
import { SQLITE_SCHEMA } from './schema.js';
import type { EncodedAppend } from '../../internal/encoded-append.js';

/** What both threads need to open the same database the same way. */
export interface OpenOptions {
  path: string;
  synchronous: 'FULL' | 'NORMAL' | 'OFF';
  busyTimeoutMs: number;
}

export function openDatabase(o: OpenOptions): Database.Database {
  const db = new Database(o.path);
  db.pragma(`busy_timeout = ${o.busyTimeoutMs}`);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${o.synchronous}`);
  db.exec(SQLITE_SCHEMA);
  return db;
}

/** Snapshot bounds: [minSeq, maxSeq, minAt, maxAt]. */
export type Bounds = [number, number, number, number];

/** Every write the store makes, as data (run on this thread or the writer's). */
export type WriteOp =
  | { op: 'append'; appends: EncodedAppend[] }
  | { op: 'deleteTo'; id: string; toSeq: number }
  | { op: 'pruneProcessed'; id: string; since: number; count: number }
  | { op: 'saveSnapshot'; id: string; seq: number; at: number; version: number; payload: Uint8Array }
  | { op: 'deleteSnapshots'; id: string; bounds: Bounds }
  | { op: 'insertState'; id: string; version: number; at: number; payload: Uint8Array }
  | { op: 'updateState'; id: string; expectedRevision: number; version: number; at: number; payload: Uint8Array }
  | { op: 'deleteState'; id: string; expectedRevision: number };

/** `append`: per append, whether it was written or lost to another writer; others: rows changed. */
export type WriteResult = { outcomes: boolean[] } | { changes: number };

/** The prepared statements. */
export class Queries {
  readonly head: Database.Statement<[string], number>;
  private readonly insertHead;
  private readonly moveHead;
  private readonly insertEvent;
  private readonly insertProcessed;
  readonly replay: Database.Statement<[string, number, number, number], [number, number, number, Buffer]>;
  readonly processed: Database.Statement<[string, number, number], [string, Buffer, number, number]>;
  readonly latestSnapshot: Database.Statement<[string, number, number, number, number], [number, number, number, Buffer]>;
  readonly getState: Database.Statement<[string], [number, number, Buffer]>;
  private readonly deleteTo;
  private readonly pruneProcessed;
  private readonly saveSnapshot;
  private readonly deleteSnapshots;
  private readonly insertState;
  private readonly updateState;
  private readonly deleteState;
  private readonly commitAppends: (appends: EncodedAppend[]) => boolean[];

  constructor(db: Database.Database) {
    this.head = db.prepare<[string], number>('SELECT seq FROM troupe_journal_heads WHERE id = ?').pluck();
    this.insertHead = db.prepare('INSERT OR IGNORE INTO troupe_journal_heads (id, seq) VALUES (?, ?)');
    this.moveHead = db.prepare('UPDATE troupe_journal_heads SET seq = ? WHERE id = ? AND seq = ?');
    this.insertEvent = db.prepare('INSERT INTO troupe_journal (id, seq, version, written_at, payload) VALUES (?, ?, ?, ?, ?)');
    this.insertProcessed = db.prepare('INSERT OR IGNORE INTO troupe_processed (id, message_id, seq, at, reply) VALUES (?, ?, ?, ?, ?)');
    this.replay = db
      .prepare<[string, number, number, number], [number, number, number, Buffer]>(
        'SELECT seq, version, written_at, payload FROM troupe_journal WHERE id = ? AND seq >= ? AND seq <= ? ORDER BY seq LIMIT ?',
      )
      .raw();
    this.processed = db
      .prepare<[string, number, number], [string, Buffer, number, number]>(
        'SELECT message_id, reply, seq, at FROM troupe_processed WHERE id = ? AND at >= ? ORDER BY rowid DESC LIMIT ?',
      )
      .raw();
    this.latestSnapshot = db
      .prepare<[string, number, number, number, number], [number, number, number, Buffer]>(
        'SELECT seq, at, version, payload FROM troupe_snapshots WHERE id = ? AND seq >= ? AND seq <= ? AND at >= ? AND at <= ? ORDER BY seq DESC LIMIT 1',
      )
      .raw();
    this.getState = db.prepare<[string], [number, number, Buffer]>('SELECT revision, version, payload FROM troupe_states WHERE id = ?').raw();
    this.deleteTo = db.prepare('DELETE FROM troupe_journal WHERE id = ? AND seq <= ?');
    this.pruneProcessed = db.prepare(
      'DELETE FROM troupe_processed WHERE id = @id AND (at < @since OR rowid NOT IN (SELECT rowid FROM troupe_processed WHERE id = @id ORDER BY rowid DESC LIMIT @count))',
    );
    this.saveSnapshot = db.prepare('INSERT OR REPLACE INTO troupe_snapshots (id, seq, at, version, payload) VALUES (?, ?, ?, ?, ?)');
    this.deleteSnapshots = db.prepare('DELETE FROM troupe_snapshots WHERE id = ? AND seq >= ? AND seq <= ? AND at >= ? AND at <= ?');
    this.insertState = db.prepare('INSERT INTO troupe_states (id, revision, version, at, payload) VALUES (?, 1, ?, ?, ?) ON CONFLICT (id) DO NOTHING');
    this.updateState = db.prepare('UPDATE troupe_states SET revision = revision + 1, version = ?, at = ?, payload = ? WHERE id = ? AND revision = ?');
    this.deleteState = db.prepare('DELETE FROM troupe_states WHERE id = ? AND revision = ?');
    // BEGIN IMMEDIATE: the write lock up front, so another process sharing the
    // file makes this wait (busy_timeout) rather than fail halfway.
    const tx = db.transaction((appends: EncodedAppend[]) => appends.map((a) => this.apply(a)));
    this.commitAppends = (appends) => tx.immediate(appends);
  }

  /**
   * One append inside the open transaction: the head moves by
   * compare-and-set (created when expecting 0) in one statement; if it did
   * not move, nothing of the append is written and it lost (false).
   */
  private apply(a: EncodedAppend): boolean {
    const n = a.payloads.length;
    if (n > 0) {
      const moved = a.expectedSeq === 0 ? this.insertHead.run(a.id, n).changes : this.moveHead.run(a.expectedSeq + n, a.id, a.expectedSeq).changes;
      if (moved !== 1) return false;
    }
    const at = Date.now();
    for (let i = 0; i < n; i++) this.insertEvent.run(a.id, a.expectedSeq + 1 + i, a.versions[i]!, at, a.payloads[i]!);
    if (a.messageId !== undefined) this.insertProcessed.run(a.id, a.messageId, a.expectedSeq + n, at, a.reply!);
    return true;
  }

  /** Runs one write (appends: all in one transaction). Throws what SQLite throws. */
  write(w: WriteOp): WriteResult {
    switch (w.op) {
      case 'append':
        return { outcomes: this.commitAppends(w.appends) };
      case 'deleteTo':
        return { changes: this.deleteTo.run(w.id, w.toSeq).changes };
      case 'pruneProcessed':
        return { changes: this.pruneProcessed.run({ id: w.id, since: w.since, count: w.count }).changes };
      case 'saveSnapshot':
        return { changes: this.saveSnapshot.run(w.id, w.seq, w.at, w.version, w.payload).changes };
      case 'deleteSnapshots':
        return { changes: this.deleteSnapshots.run(w.id, ...w.bounds).changes };
      case 'insertState':
        return { changes: this.insertState.run(w.id, w.version, w.at, w.payload).changes };
      case 'updateState':
        return { changes: this.updateState.run(w.version, w.at, w.payload, w.id, w.expectedRevision).changes };
      case 'deleteState':
        return { changes: this.deleteState.run(w.id, w.expectedRevision).changes };
    }
  }
}
