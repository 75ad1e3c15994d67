import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { StoreError } from '../../errors.js';
import type { Queries, OpenOptions, WriteOp, WriteResult } from './queries.js';

/** Where the store's writes run. */
export interface Writer {
  write(w: WriteOp): Promise<WriteResult>;
  close(): Promise<void>;
}

function storeError(e: unknown): StoreError {
  return new StoreError(`SQLite write failed: ${e instanceof Error ? e.message : String(e)}`, e);
}

/** On the calling thread: no thread hop, but each fsync (every commit under `full`, checkpoints under `normal`) blocks the event loop. */
export class InlineWriter implements Writer {
  constructor(private readonly q: Queries) {}

  write(w: WriteOp): Promise<WriteResult> {
    try {
      return Promise.resolve(this.q.write(w));
    } catch (e) {
      return Promise.reject(storeError(e));
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The built worker next to this module; running from sources (the tests),
 * a bootstrap that registers tsx in the thread and imports the TypeScript one.
 */
function spawnWorker(data: OpenOptions): Worker {
  const js = new URL('./writer-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return new Worker(js, { workerData: data });
  // require.resolve gives the CommonJS build; the ESM one sits beside it.
  const tsx = createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs');
  const ts = new URL('./writer-worker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(pathToFileURL(tsx).href)}).then((m) => { m.register(); return import(${JSON.stringify(ts)}); });`;
  return new Worker(boot, { eval: true, workerData: data });
}

/** On a worker thread with its own connection: the event loop never waits for the disk. */
export class WorkerWriter implements Writer {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (r: WriteResult) => void; reject: (e: unknown) => void }>();
  private next = 0;
  private failed: StoreError | null = null;

  constructor(opts: OpenOptions) {
    this.worker = spawnWorker(opts);
    // Writes posted before the thread is up wait in its port: no ready handshake is needed.
    this.worker.on('message', (m: { n: number; ok?: WriteResult; error?: string }) => {
      const p = this.pending.get(m.n);
      if (p === undefined) return;
      this.pending.delete(m.n);
      if (m.error !== undefined) p.reject(new StoreError(`SQLite write failed: ${m.error}`));
      else p.resolve(m.ok!);
    });
    const fail = (e: unknown): void => {
      this.failed = storeError(e);
      for (const p of this.pending.values()) p.reject(this.failed);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`writer thread exited (${code})`)));
    // Idle, the worker must not keep the process alive; a pending write does (ref'd below).
    this.worker.unref();
  }

  write(w: WriteOp): Promise<WriteResult> {
    if (this.failed !== null) return Promise.reject(this.failed);
    const n = this.next++;
    if (this.pending.size === 0) this.worker.ref();
    return new Promise<WriteResult>((resolve, reject) => {
      this.pending.set(n, {
        resolve: (r) => {
          this.settled();
          resolve(r);
        },
        reject: (e) => {
          this.settled();
          reject(e);
        },
      });
      this.worker.postMessage({ n, w });
    });
  }

  private settled(): void {
    if (this.pending.size === 0) this.worker.unref();
  }

  async close(): Promise<void> {
    if (this.failed !== null) return;
    const exited = new Promise<void>((r) => this.worker.once('exit', () => r()));
    this.worker.ref();
    this.worker.postMessage('close');
    await exited;
  }
}
