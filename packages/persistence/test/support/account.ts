import type { EventSourcedBehaviour } from '../../src/index.js';

export type AccountCmd =
  | { op: 'deposit'; amount: number; requestId?: string }
  | { op: 'withdraw'; amount: number; requestId?: string }
  | { op: 'balance' };
export type AccountEvent = { type: 'deposited'; amount: number } | { type: 'withdrew'; amount: number };
export type AccountReply = { ok: true; balance: number } | { ok: false; error: 'insufficient_funds'; balance: number };
export interface Account {
  balance: number;
  applied: number;
}

/** A bank account: the event-sourced server every test here drives. `log` records each handleCommand run. */
export function account(log: string[] = []): EventSourcedBehaviour<Account, AccountCmd, AccountEvent, AccountReply> {
  return {
    name: 'account',
    persistenceId: (id) => `account-${id}`,
    initialState: () => ({ balance: 0, applied: 0 }),
    messageId: (cmd) => ('requestId' in cmd ? cmd.requestId : undefined),
    handleCommand(cmd, s) {
      log.push(cmd.op === 'balance' ? 'balance' : `${cmd.op}:${cmd.amount}`);
      switch (cmd.op) {
        case 'balance':
          return { reply: { ok: true, balance: s.balance } };
        case 'deposit':
          return { events: [{ type: 'deposited', amount: cmd.amount }], reply: { ok: true, balance: s.balance + cmd.amount } };
        case 'withdraw':
          if (cmd.amount > s.balance) return { reply: { ok: false, error: 'insufficient_funds', balance: s.balance } };
          return { events: [{ type: 'withdrew', amount: cmd.amount }], reply: { ok: true, balance: s.balance - cmd.amount } };
      }
    },
    handleEvent(s, e) {
      return { balance: e.type === 'deposited' ? s.balance + e.amount : s.balance - e.amount, applied: s.applied + 1 };
    },
  };
}
