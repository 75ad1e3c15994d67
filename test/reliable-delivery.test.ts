/**
 * Reliable delivery across real node processes: a ReliableProducer on node
 * a sends numbered items through a ChildRef to an event-sourced ledger, a
 * DistributedSupervisor child on node c, over a store the nodes share (one
 * SQLite file, or PostgreSQL). c is SIGKILLed mid-stream; the ledger
 * restarts on b and recovers from the store; the producer follows it and resends what was unconfirmed.
 * Afterwards the journal holds every item exactly once, in order, and the
 * ref is healthy on the new home, never healthy on the dead one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Journal, ProducerStats } from '@troupe/persistence';
import { SqliteStore } from '@troupe/persistence/sqlite';
import { PostgresStore } from '@troupe/persistence/postgres';
import { startTempPostgres, type TempPostgres } from '@troupe/persistence/testkit/postgres';
import { FAST_TICKS, SCENARIOS, useClusters } from './helpers.js';
import type { StoreConfig } from './durable-scenarios.js';
import type { HealthSample, LedgerState } from './reliable-scenarios.js';

const REL_SCENARIOS = new URL('./reliable-scenarios.ts', import.meta.url).pathname;
const start = useClusters();

let dir = '';
let pg: TempPostgres | undefined;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'troupe-reliable-'));
  pg = await startTempPostgres();
}, 60_000);
afterAll(async () => {
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The shared store for the nodes and a handle on it here (created here first, so node processes never race on the schema). */
async function sharedStore(kind: 'sqlite' | 'postgres'): Promise<{ cfg: StoreConfig; journal: Journal; close(): Promise<void> }> {
  if (kind === 'sqlite') {
    const path = join(dir, 'ledger.db');
    const s = new SqliteStore({ path, writer: 'inline' });
    return { cfg: { kind, path }, journal: s.journal, close: () => s.close() };
  }
  const s = await PostgresStore.open({ connectionString: pg!.connectionString });
  return { cfg: { kind, url: pg!.connectionString }, journal: s.journal, close: () => s.close() };
}

describe.each(['sqlite', 'postgres'] as const)('reliable delivery through a ChildRef to a durable child on another node process (%s)', (kind) => {
  it('SIGKILL of the consumer node mid-stream: every item applied exactly once, in order, no gaps; the ref follows the move', async () => {
    const store = await sharedStore(kind);
    try {
      await deliverThroughKill(store.cfg, store.journal, kind);
    } finally {
      await store.close();
    }
  }, 120_000);
});

/** The scenario: produce through a ref, SIGKILL the consumer's node mid-stream, check the journal and the ref's health. */
async function deliverThroughKill(cfg: StoreConfig, journal: Journal, kind: string): Promise<void> {
  const c = await start({ nodes: ['a', 'b', 'c'], scenarios: [SCENARIOS, REL_SCENARIOS], transport: FAST_TICKS, logLevel: 'error' });
  const [a, b, victim] = [c.node('a'), c.node('b'), c.node('c')];
  await Promise.all(c.nodes.map((h) => h.run('relSetup', cfg)));
  await Promise.all(c.nodes.map((h) => h.run('relAwaitTargets', 3)));
  const id = await a.run<string>('relPickId', `L${Date.now().toString(36)}-`, victim.name, b.name);
  expect(await a.run<string>('relStartChild', id)).toBe(victim.name);

  const N = 6000;
  // 20 items every 5 ms: about 4000/s, so the kill lands mid-stream.
  await a.run('relProduce', id, N, 20, 5);
  const deadline = performance.now() + 20_000;
  for (;;) {
    const st = await a.run<ProducerStats>('relProgress');
    if (st.confirmed >= N / 4) break;
    if (performance.now() > deadline) throw new Error(`producer made no progress: ${JSON.stringify(st)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const before = await a.run<ProducerStats>('relProgress');
  const killedAt = await victim.kill();

  const r = await a.run<{ confirmed: number; stats: ProducerStats; health: HealthSample[] }>('relDone', 60_000);
  expect(r.confirmed).toBe(N);
  expect(r.stats).toMatchObject({ confirmed: N, inFlight: 0, buffered: 0 });
  expect(before.confirmed).toBeLessThan(N); // the kill was mid-stream
  expect(await a.run<string | null>('relWhere', id)).toBe(b.name);

  // The state as the new home answers it, and the journal itself: 1..N, each once, in order.
  const state = await a.run<LedgerState>('relState', id);
  expect(state).toEqual({ count: N, last: N, outOfOrder: 0 });
  const items: number[] = [];
  for (let from = 1; ; ) {
    const page = await journal.replay(`ledger:${id}`, from, Infinity, 4096);
    for (const e of page) if (e.version !== 0) items.push((e.event as { n: number }).n);
    if (page.length < 4096) break;
    from = page[page.length - 1]!.seq + 1;
  }
  expect(items.length).toBe(N);
  const wrong = items.findIndex((n, i) => n !== i + 1);
  expect(wrong).toBe(-1);

  // Health on the producer's node: healthy on c before the kill, healthy on b at the end, and in
  // between never 'healthy' on the dead node. Whether a bad state shows in between is a race, not
  // a rule: when b's takeover reaches a before a's own nodedown for c, the ref goes from c
  // straight to b (both nodes see c's sockets close at once; b's restart can take 3 ms).
  const hs = r.health;
  const beforeKill = hs.filter((h) => h.at < killedAt);
  const afterKill = hs.filter((h) => h.at >= killedAt);
  expect(beforeKill[beforeKill.length - 1]).toMatchObject({ health: 'healthy', node: victim.name });
  expect(afterKill.filter((h) => h.health === 'healthy' && h.node !== b.name)).toEqual([]);
  expect(hs[hs.length - 1]).toMatchObject({ health: 'healthy', node: b.name });
  const recoveredAt = afterKill.find((h) => h.health === 'healthy')!.at;
  console.log(
    `[reliable] ${kind}: ${N} items, SIGKILL at ${before.confirmed} confirmed; ${r.stats.resent} resent; after the kill: ${afterKill.map((h) => `${h.health}/${h.node ?? '-'}@+${(h.at - killedAt).toFixed(0)}ms`).join(' → ')}; healthy again ${(recoveredAt - killedAt).toFixed(0)} ms after the kill`,
  );
}
