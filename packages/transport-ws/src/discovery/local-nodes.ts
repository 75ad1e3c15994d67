import { mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import type { DiscoverySelf, DiscoveryStrategy } from './strategy.js';

/** The directory `LocalNodes` uses unless told: `TROUPE_NODES_DIR`, else `~/.troupe/nodes`. */
export function defaultNodesDir(env: NodeJS.ProcessEnv = process.env): string {
  const d = env.TROUPE_NODES_DIR;
  return d !== undefined && d !== '' ? d : join(homedir(), '.troupe', 'nodes');
}

export interface LocalNodesOptions {
  /** The per-user directory of running nodes (default `defaultNodesDir()`). */
  dir?: string;
  /** ms between two reads of the directory (default 1000). */
  intervalMs?: number;
}

/** One running node's entry: `<dir>/<encoded name>.json`. */
interface Entry {
  v: 1;
  name: string;
  url: string;
  pid: number;
  host: string;
  fp: string;
}

/** Entries are a few hundred bytes; anything much larger is not one. */
const MAX_ENTRY_BYTES = 4096;

function isEntry(x: unknown): x is Entry {
  const e = x as Entry;
  return (
    typeof x === 'object' && x !== null && e.v === 1 && typeof e.name === 'string' && typeof e.url === 'string' && /^wss?:\/\//.test(e.url) &&
    Number.isSafeInteger(e.pid) && e.pid > 0 && typeof e.host === 'string' && typeof e.fp === 'string'
  );
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, owned by someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Nodes on one host find each other (Erlang's epmd, without a daemon): each
 * node writes its name, URL and OS pid to a file in a per-user directory
 * while it runs, and dials the others listed there. An entry whose process
 * is gone (killed, crashed) is deleted by whoever reads it first, so a dead
 * node is forgotten; a node restarted under the same name rewrites its entry
 * with its new URL and is dialled again. Entries of nodes with another
 * cookie are skipped (not dialled into a handshake failure).
 */
export class LocalNodes implements DiscoveryStrategy {
  readonly name = 'local';
  readonly intervalMs: number;
  readonly dir: string;
  private self: DiscoverySelf | null = null;
  private file: string | null = null;
  private readonly host = hostname();

  constructor(opts: LocalNodesOptions = {}) {
    this.dir = opts.dir ?? defaultNodesDir();
    this.intervalMs = opts.intervalMs ?? 1000;
  }

  start(self: DiscoverySelf): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const file = join(this.dir, `${encodeURIComponent(self.name)}.json`);
    const entry: Entry = { v: 1, name: self.name, url: self.url, pid: process.pid, host: this.host, fp: self.cookieFingerprint };
    // Written aside and renamed: a reader never sees half an entry.
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(entry), { mode: 0o600 });
    renameSync(tmp, file);
    this.self = self;
    this.file = file;
  }

  stop(): void {
    const file = this.file;
    this.file = null;
    if (file === null) return;
    // Only our own entry: a node started since under the same name keeps its.
    if (this.read(file)?.pid === process.pid) this.remove(file);
  }

  targets(): readonly string[] {
    const self = this.self;
    if (self === null) return [];
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const urls: string[] = [];
    for (const n of names) {
      if (!n.endsWith('.json')) continue;
      const file = join(this.dir, n);
      const e = this.read(file);
      if (e === null || e.name === self.name || e.host !== this.host) continue;
      if (!processAlive(e.pid)) {
        self.logger.info('discovery: local entry of a node that is gone, forgotten', { node: e.name, pid: e.pid });
        this.remove(file);
        continue;
      }
      if (e.fp === self.cookieFingerprint) urls.push(e.url);
    }
    return urls;
  }

  private read(file: string): Entry | null {
    try {
      const text = readFileSync(file, 'utf8');
      if (text.length > MAX_ENTRY_BYTES) return null;
      const e: unknown = JSON.parse(text);
      return isEntry(e) ? e : null;
    } catch {
      return null; // gone meanwhile, or not an entry
    }
  }

  private remove(file: string): void {
    try {
      unlinkSync(file);
    } catch {
      // already removed by another reader
    }
  }
}
