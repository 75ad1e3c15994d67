/**
 * The tables. `troupe_journal_heads` holds each id's highest sequence number:
 * a write checks it inside its transaction (the conflict test), and deletes
 * of events never touch it, so the highest number survives them.
 */
export const SQLITE_SCHEMA = `
CREATE TABLE IF NOT EXISTS troupe_journal (
  id TEXT NOT NULL, seq INTEGER NOT NULL, version INTEGER NOT NULL, written_at INTEGER NOT NULL, payload BLOB NOT NULL,
  PRIMARY KEY (id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS troupe_journal_heads (id TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS troupe_processed (
  id TEXT NOT NULL, message_id TEXT NOT NULL, seq INTEGER NOT NULL, at INTEGER NOT NULL, reply BLOB NOT NULL,
  UNIQUE (id, message_id)
);
CREATE TABLE IF NOT EXISTS troupe_snapshots (
  id TEXT NOT NULL, seq INTEGER NOT NULL, at INTEGER NOT NULL, version INTEGER NOT NULL, payload BLOB NOT NULL,
  PRIMARY KEY (id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS troupe_states (
  id TEXT PRIMARY KEY, revision INTEGER NOT NULL, version INTEGER NOT NULL, at INTEGER NOT NULL, payload BLOB NOT NULL
) WITHOUT ROWID;
`;
