// A throwaway PostgreSQL server for tests and benchmarks: Debian's binaries,
// a fresh cluster in a temp directory, a free loopback port, trust auth.
// PostgreSQL refuses to run as root, so under root the cluster belongs to
// `nobody` (the directory is chowned to it and the binaries run with its uid).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempPostgres {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly user: 'postgres';
  readonly database: 'postgres';
  readonly connectionString: string;
  /** Stops the server (fast shutdown) and removes its directory. */
  stop(): Promise<void>;
}

export interface TempPostgresOptions {
  /** Extra `-c name=value` settings, e.g. `{ synchronous_commit: 'on' }`. */
  settings?: Record<string, string>;
  /** ms to wait for the server to accept connections. Default 30000. */
  startTimeoutMs?: number;
}

const NOBODY = { uid: 65534, gid: 65534 };

/** The newest Debian PostgreSQL bin directory, or a clear error saying how to install one. */
export function findPostgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error('PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): run `apt-get update && apt-get install -y postgresql`');
  }
  return join(root, versions[0]!, 'bin');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startTempPostgres(opts: TempPostgresOptions = {}): Promise<TempPostgres> {
  const bin = findPostgresBin();
  const asRoot = process.getuid?.() === 0;
  const ids = asRoot ? NOBODY : {};
  const dir = mkdtempSync(join(tmpdir(), 'troupe-pg-'));
  const data = join(dir, 'data');
  if (asRoot) chownSync(dir, NOBODY.uid, NOBODY.gid);
  const init = spawnSync(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-instructions'], {
    ...ids,
    cwd: dir,
    encoding: 'utf8',
  });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.status}): ${init.stderr || init.stdout}`);
  }
  const port = await freePort();
  const settings = { listen_addresses: '127.0.0.1', unix_socket_directories: dir, fsync: 'on', ...opts.settings };
  const args = ['-D', data, '-p', String(port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  const child: ChildProcess = spawn(join(bin, 'postgres'), args, { ...ids, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`PostgreSQL did not start within ${opts.startTimeoutMs ?? 30000} ms:\n${log}`)), opts.startTimeoutMs ?? 30000);
      child.stderr!.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        if (log.length > 100_000) log = log.slice(-50_000);
        if (log.includes('ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`PostgreSQL exited (${code}) before accepting connections:\n${log}`));
      });
    });
  } catch (e) {
    child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  child.stderr!.resume();
  let stopped: Promise<void> | null = null;
  return {
    host: '127.0.0.1',
    port,
    user: 'postgres',
    database: 'postgres',
    connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop() {
      return (stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGINT'); // fast shutdown: disconnects clients, no waiting for them
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timer);
        }
        rmSync(dir, { recursive: true, force: true });
      })());
    },
  };
}
