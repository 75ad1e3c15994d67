// The SQLite writer thread: owns the store's only write connection, so an
// fsync (or a checkpoint) blocks this thread, never the node's event loop.
// Requests are handled in arrival order; each answer carries its request's number.
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase, Queries, type OpenOptions, type WriteOp } from './queries.js';

const db = openDatabase(workerData as OpenOptions);
const q = new Queries(db);
const port = parentPort!;

port.on('message', (m: { n: number; w: WriteOp } | 'close') => {
  if (m === 'close') {
    db.close();
    port.close();
    return;
  }
  try {
    port.postMessage({ n: m.n, ok: q.write(m.w) });
  } catch (e) {
    port.postMessage({ n: m.n, error: e instanceof Error ? e.message : String(e) });
  }
});
