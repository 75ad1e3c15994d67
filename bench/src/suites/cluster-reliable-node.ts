/**
 * The consumer side of the `cluster` suite's reliable-delivery cases: the
 * scenarios node B runs (a node process started by @troupe/harness; the
 * bench case's own process is node A, the producer). Imported only inside B.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GenServer, isStarted, type Pid } from '@troupe/actor-core';
import { eventSourced, type EventSourcedBehaviour } from '@troupe/persistence';
import { SqliteStore } from '@troupe/persistence/sqlite';
import type { Scenarios } from '@troupe/harness';

/** What the producer sends: a number and ~100 bytes, as a small command would be. */
export interface BenchItem {
  n: number;
  memo: string;
}

/** Counts what it applied (one event per item) and remembers the last number. */
const ledger: EventSourcedBehaviour<{ count: number; last: number }, 'get', BenchItem, { count: number; last: number }, never, never, string, BenchItem> = {
  persistenceId: (id) => `bench-ledger:${id}`,
  initialState: () => ({ count: 0, last: 0 }),
  handleCommand: (_c, s) => ({ reply: s }),
  handleDelivery: (m) => ({ events: [m] }),
  handleEvent: (s, e) => ({ count: s.count + 1, last: e.n }),
};

const echo = {
  init: () => ({ ok: null }),
  handleCall: (req: unknown, _from: unknown, state: null) => ({ reply: req, state }),
};

let cleanup: (() => Promise<void>) | undefined;

export const scenarios: Scenarios = {
  /**
   * Opens two SQLite stores in a temp directory (WAL, the default
   * durability): one with the default writer thread, one with the writer
   * inline on the event loop; starts a consumer `ledger` on each and a plain
   * `echo` server. Resolves to their pids.
   */
  async relConsumer(env): Promise<{ ledger: Pid; ledgerInline: Pid; echo: Pid }> {
    const dir = mkdtempSync(join(tmpdir(), 'troupe-bench-reliable-'));
    const store = new SqliteStore({ path: join(dir, 'ledger.db'), writer: 'worker' });
    const inline = new SqliteStore({ path: join(dir, 'ledger-inline.db'), writer: 'inline' });
    const l = await GenServer.start(env.node, eventSourced(ledger, { journal: store.journal }), 'one');
    const li = await GenServer.start(env.node, eventSourced(ledger, { journal: inline.journal }), 'two');
    const e = await GenServer.start(env.node, echo, undefined);
    if (!isStarted(l) || !isStarted(li) || !isStarted(e)) throw new Error('bench consumer did not start');
    cleanup = async () => {
      await store.close();
      await inline.close();
      rmSync(dir, { recursive: true, force: true });
    };
    return { ledger: l.ok as unknown as Pid, ledgerInline: li.ok as unknown as Pid, echo: e.ok as unknown as Pid };
  },

  async relClose(): Promise<void> {
    await cleanup?.();
  },

  /** This process's CPU time so far (µs, user + system): the case counts it as its own. */
  cpu(): number {
    const u = process.cpuUsage();
    return u.user + u.system;
  },
};
