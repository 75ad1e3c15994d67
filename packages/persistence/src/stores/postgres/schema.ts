/**
 * The tables, created under an advisory lock so node processes starting
 * together do not race on `CREATE TABLE IF NOT EXISTS`.
 * `troupe_journal_heads` holds each id's highest sequence number: a write
 * moves it with a compare-and-set (its row lock orders two writers of one
 * id; the second sees the moved number and loses), and event deletes never
 * touch it. `PRIMARY KEY (id, seq)` on the events backs that up.
 */
export const PG_SCHEMA = `
CREATE TABLE IF NOT EXISTS troupe_journal (
  id text NOT NULL, seq bigint NOT NULL, version int NOT NULL, written_at bigint NOT NULL, payload bytea NOT NULL,
  PRIMARY KEY (id, seq)
);
CREATE TABLE IF NOT EXISTS troupe_journal_heads (id text PRIMARY KEY, seq bigint NOT NULL);
CREATE TABLE IF NOT EXISTS troupe_processed (
  n bigserial, id text NOT NULL, message_id text NOT NULL, seq bigint NOT NULL, at bigint NOT NULL, reply bytea NOT NULL,
  PRIMARY KEY (id, message_id)
);
CREATE INDEX IF NOT EXISTS troupe_processed_order ON troupe_processed (id, n);
CREATE TABLE IF NOT EXISTS troupe_snapshots (
  id text NOT NULL, seq bigint NOT NULL, at bigint NOT NULL, version int NOT NULL, payload bytea NOT NULL,
  PRIMARY KEY (id, seq)
);
CREATE TABLE IF NOT EXISTS troupe_states (
  id text PRIMARY KEY, revision bigint NOT NULL, version int NOT NULL, at bigint NOT NULL, payload bytea NOT NULL
);
`;

/** Any constant: the advisory lock key that serializes schema creation. */
export const SCHEMA_LOCK = 7_406_153_001;

/**
 * A whole group of appends (any number of ids) in one statement, so one
 * round trip and one commit: the statement is its own transaction, and its
 * result arrives after COMMIT. `won` lists the ids whose head moved from the
 * expected number (update) or was created (expected 0); only their events
 * and processed records are inserted, except the records of appends with no
 * events (`always`), which check nothing.
 * $1 ids, $2 expected, $3 new head — one per append that has events;
 * $4..$7 the events' id, seq, version, payload; $8 the commit time;
 * $9..$13 the processed records' id, message id, seq, reply, always.
 */
export const PG_APPEND = `
WITH req AS (
  SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS r(id, expected, head)
), upd AS (
  UPDATE troupe_journal_heads h SET seq = req.head FROM req
  WHERE req.expected > 0 AND h.id = req.id AND h.seq = req.expected
  RETURNING h.id
), ins AS (
  INSERT INTO troupe_journal_heads (id, seq) SELECT id, head FROM req WHERE expected = 0
  ON CONFLICT (id) DO NOTHING
  RETURNING id
), won AS (
  SELECT id FROM upd UNION ALL SELECT id FROM ins
), ev AS (
  INSERT INTO troupe_journal (id, seq, version, written_at, payload)
  SELECT e.id, e.seq, e.version, $8, e.payload
  FROM unnest($4::text[], $5::bigint[], $6::int[], $7::bytea[]) AS e(id, seq, version, payload)
  WHERE e.id IN (SELECT id FROM won)
), pr AS (
  INSERT INTO troupe_processed (id, message_id, seq, at, reply)
  SELECT p.id, p.mid, p.seq, $8, p.reply
  FROM unnest($9::text[], $10::text[], $11::bigint[], $12::bytea[], $13::bool[]) AS p(id, mid, seq, reply, always)
  WHERE p.always OR p.id IN (SELECT id FROM won)
  ON CONFLICT (id, message_id) DO NOTHING
)
SELECT id FROM won`;
