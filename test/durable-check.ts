/**
 * The Jepsen-style history check of the durable-cluster tests: what the
 * clients saw (each deposit ok, failed or unknown) against what the shared
 * store holds, read back by replay in the test process.
 */
import type { Journal } from '@troupe/persistence';
import type { Account, Deposited, Outcome } from './durable-scenarios.js';

/** One client operation and what came of it. */
export interface Op {
  account: string;
  id: string;
  amount: number;
  outcome: Outcome;
}

export interface HistoryCounts {
  ok: number;
  failed: number;
  unknown: number;
  /** Unknown operations found applied in the store. */
  unknownApplied: number;
  events: number;
}

/**
 * Replays every account and throws on the first violation: a sequence gap;
 * an operation applied twice; an ok not applied, or applied anywhere but at
 * the sequence number it was replied with, or with a replied balance that
 * differs from the replayed prefix; a failed operation applied. Resolves to
 * the replayed state per account and the counts.
 */
export async function checkHistory(journal: Journal, accounts: string[], ops: Op[]): Promise<{ state: Map<string, Account>; counts: HistoryCounts }> {
  const counts: HistoryCounts = { ok: 0, failed: 0, unknown: 0, unknownApplied: 0, events: 0 };
  const state = new Map<string, Account>();
  /** Per account: op id -> [seq, balance after]. */
  const applied = new Map<string, Map<string, [number, number]>>();
  for (const name of accounts) {
    const evs = await journal.replay(`acct:${name}`, 1, Infinity, 1_000_000);
    const at = new Map<string, [number, number]>();
    let balance = 0;
    for (const [i, e] of evs.entries()) {
      if (e.seq !== i + 1) throw new Error(`${name}: sequence gap, event ${i + 1} has seq ${e.seq}`);
      const d = e.event as Deposited;
      balance += d.amount;
      if (at.has(d.id)) throw new Error(`${name}: operation ${d.id} applied twice (seq ${at.get(d.id)![0]} and ${e.seq})`);
      at.set(d.id, [e.seq, balance]);
    }
    counts.events += evs.length;
    applied.set(name, at);
    state.set(name, { name, balance, seq: evs.length });
  }
  for (const op of ops) {
    const hit = applied.get(op.account)?.get(op.id);
    if ('ok' in op.outcome) {
      counts.ok++;
      if (hit === undefined) throw new Error(`acknowledged ${op.id} on ${op.account} is not in the store (replied ${JSON.stringify(op.outcome.ok)})`);
      const [seq, balance] = hit;
      if (seq !== op.outcome.ok.seq || balance !== op.outcome.ok.balance) {
        throw new Error(`${op.id} on ${op.account}: replied seq ${op.outcome.ok.seq} balance ${op.outcome.ok.balance}, replay has seq ${seq} balance ${balance}`);
      }
    } else if ('failed' in op.outcome) {
      counts.failed++;
      if (hit !== undefined) throw new Error(`${op.id} on ${op.account} failed (${op.outcome.failed}) yet is applied at seq ${hit[0]}`);
    } else {
      counts.unknown++;
      if (hit !== undefined) counts.unknownApplied++;
    }
  }
  const known = new Set(ops.map((o) => o.id));
  for (const [name, at] of applied) for (const id of at.keys()) if (!known.has(id)) throw new Error(`${name}: event ${id} that no client sent`);
  return { state, counts };
}
