/**
 * `--store URL`: where durable agents keep their state. `sqlite:PATH` is one
 * SQLite file (WAL mode) that every node process on the host opens;
 * `postgres://...` (or `postgresql://`) is a PostgreSQL database for nodes
 * on several hosts; `none` keeps agents in memory.
 */
import { resolve } from 'node:path';
import type { PersistenceStore } from '@troupe/persistence';

export type StoreSpec = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

export const STORE_FORMS = "sqlite:PATH, postgres://USER[:PASS]@HOST[:PORT]/DB or none";

/** The spec, null for `none`, or a message saying what is wrong (the caller makes it a usage error). */
export function parseStoreUrl(raw: string, cwd = process.cwd()): StoreSpec | null | { error: string } {
  if (raw === 'none') return null;
  if (raw.startsWith('sqlite:')) {
    // sqlite:PATH and sqlite://PATH alike; a relative PATH is taken from the current directory.
    const path = raw.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '' || path === ':memory:') return { error: `--store sqlite: needs a file path (every node process opens the same file), got '${raw}'` };
    return { kind: 'sqlite', path: resolve(cwd, path) };
  }
  if (/^postgres(ql)?:\/\//.test(raw)) {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      return { error: `--store must be ${STORE_FORMS}; '${redact(raw)}' is not a valid URL` };
    }
    if (u.hostname === '' || u.pathname.length <= 1) return { error: `--store postgres:// needs a host and a database (postgres://USER@HOST:5432/DB), got '${redact(raw)}'` };
    return { kind: 'postgres', url: raw };
  }
  return { error: `--store must be ${STORE_FORMS}, got '${redact(raw)}'` };
}

/** The URL without its password, for logs and errors. */
export function redact(raw: string): string {
  return raw.replace(/^(postgres(?:ql)?:\/\/[^:@/]*):[^@/]*@/, '$1:***@');
}

export function describeStore(s: StoreSpec): string {
  return s.kind === 'sqlite' ? `sqlite:${s.path}` : redact(s.url);
}

/** Opens (and on first use creates) the store; rejects with a message naming it. */
export async function openStore(s: StoreSpec): Promise<PersistenceStore> {
  try {
    if (s.kind === 'sqlite') {
      const { SqliteStore } = await import('@troupe/persistence/sqlite');
      return new SqliteStore({ path: s.path });
    }
    const { PostgresStore } = await import('@troupe/persistence/postgres');
    return await PostgresStore.open({ connectionString: s.url });
  } catch (e) {
    throw new Error(`cannot open the store ${describeStore(s)}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}
