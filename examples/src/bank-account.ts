// A bank account as an event-sourced server on SQLite (a file in a temp
// directory: no setup). Deposits carry request ids, so a client's retry is
// applied once; the account is killed and its supervisor restarts it, and
// the balance comes back from the journal. Run: `npm run example -- bank-account`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GenServer, Node, Supervisor, isStarted } from '@troupe/actor-core';
import { eventSourced, type EventSourcedBehaviour } from '@troupe/persistence';
import { SqliteStore } from '@troupe/persistence/sqlite';

type Command = { op: 'deposit' | 'withdraw'; amount: number; requestId: string } | { op: 'balance' };
type Event = { type: 'deposited' | 'withdrew'; amount: number };
type Reply = { ok: boolean; balance: number };

const account: EventSourcedBehaviour<number, Command, Event, Reply> = {
  persistenceId: (iban) => `account:${iban}`,
  initialState: () => 0,
  messageId: (cmd) => (cmd.op === 'balance' ? undefined : cmd.requestId),
  handleCommand(cmd, balance) {
    if (cmd.op === 'balance') return { reply: { ok: true, balance } };
    if (cmd.op === 'withdraw' && cmd.amount > balance) return { reply: { ok: false, balance } };
    const event: Event = { type: cmd.op === 'deposit' ? 'deposited' : 'withdrew', amount: cmd.amount };
    return { events: [event], reply: { ok: true, balance: account.handleEvent(balance, event) } };
  },
  handleEvent: (balance, e) => (e.type === 'deposited' ? balance + e.amount : balance - e.amount),
};

const dir = mkdtempSync(join(tmpdir(), 'troupe-bank-'));
const store = new SqliteStore({ path: join(dir, 'bank.db') });
const node = new Node({ name: 'bank@localhost' });

const sup = await Supervisor.start(node, { strategy: 'one_for_one', intensity: 3, period: 5 }, [
  { id: 'alice', start: (s) => GenServer.startLink(s, eventSourced(account, store), 'NL01-ALICE', { name: 'alice' }) },
]);
if (!isStarted(sup)) throw new Error('supervisor did not start');

const deposit = { op: 'deposit', amount: 100, requestId: 'req-1' } as const;
console.log('deposit      ', await GenServer.call(node, 'alice', deposit)); // { ok: true, balance: 100 }
console.log('same request ', await GenServer.call(node, 'alice', deposit)); // applied once: still 100
console.log('withdraw 30  ', await GenServer.call(node, 'alice', { op: 'withdraw', amount: 30, requestId: 'req-2' }));
console.log('withdraw 500 ', await GenServer.call(node, 'alice', { op: 'withdraw', amount: 500, requestId: 'req-3' }));

// Kill the account: the supervisor starts a new one, which replays the journal.
const before = node.whereis('alice')!;
node.exit(before, 'kill');
while (node.whereis('alice') === undefined || node.whereis('alice')!.equals(before)) await new Promise((r) => setTimeout(r, 1));
const after = await GenServer.call<Reply>(node, 'alice', { op: 'balance' });
console.log('after restart', after); // { ok: true, balance: 70 }

await Supervisor.stop(node, sup.ok);
node.shutdown();
await store.close();
rmSync(dir, { recursive: true, force: true });
if (after.balance !== 70) throw new Error(`expected balance 70, got ${after.balance}`);
