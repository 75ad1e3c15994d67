import type { DurableStateBehaviour, EventSourcedBehaviour } from '../../src/index.js';

/** A delivered message: its number in the test's own sequence. */
export interface Item {
  n: number;
}
export interface Ledger {
  /** Every item applied, in order: a duplicate or a reordering shows here. */
  items: number[];
}
export type LedgerCmd = { op: 'get' };

/**
 * The consumer the delivery tests drive: each delivered item is one event
 * that appends its number. `log` records each handleDelivery run, as
 * `producer:seq` (a run is not an application: a failed write runs again).
 */
export function ledger(log: string[] = []): EventSourcedBehaviour<Ledger, LedgerCmd, Item, Ledger, never, never, string, Item> {
  return {
    name: 'ledger',
    persistenceId: (id) => `ledger-${id}`,
    initialState: () => ({ items: [] }),
    handleCommand: (_cmd, s) => ({ reply: s }),
    handleDelivery(msg, _s, meta) {
      log.push(`${meta.producerId.split('/')[0]}:${meta.seq}`);
      return { events: [{ n: msg.n }] };
    },
    handleEvent: (s, e) => ({ items: [...s.items, e.n] }),
  };
}

/** The same as a durable-state server. */
export function stateLedger(log: string[] = []): DurableStateBehaviour<Ledger, LedgerCmd, Ledger, never, never, string, Item> {
  return {
    name: 'state-ledger',
    persistenceId: (id) => `sledger-${id}`,
    initialState: () => ({ items: [] }),
    handleCommand: (_cmd, s) => ({ reply: s }),
    handleDelivery(msg, s, meta) {
      log.push(`${meta.producerId.split('/')[0]}:${meta.seq}`);
      return { state: { items: [...s.items, msg.n] } };
    },
  };
}
