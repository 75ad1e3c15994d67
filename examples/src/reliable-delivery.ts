// Reliable delivery to a durable child of a DistributedSupervisor: node a
// sends 1,000 numbered orders through a ChildRef (the child by id, wherever
// it runs); the child is killed mid-stream and restarted from the store;
// the producer resends what was not confirmed, and the consumer's stored
// high-water mark drops what it already applied. Run: `npm run example -- reliable-delivery`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GenServer, MemoryNetwork, Node } from '@troupe/actor-core';
import { DistributedSupervisor } from '@troupe/registry-crdt';
import { ReliableProducer, eventSourced, type EventSourcedBehaviour } from '@troupe/persistence';
import { SqliteStore } from '@troupe/persistence/sqlite';

type Order = { n: number };
type Book = { count: number; last: number; outOfOrder: number };

// The consumer: each delivered order is one event; the producer's mark is stored in the same write.
const book: EventSourcedBehaviour<Book, 'get', Order, Book, never, never, string, Order> = {
  persistenceId: (id) => `book:${id}`,
  initialState: () => ({ count: 0, last: 0, outOfOrder: 0 }),
  handleCommand: (_get, s) => ({ reply: s }),
  handleDelivery: (order) => ({ events: [order] }), // applied once per (producer, seq), in order
  handleEvent: (s, o) => ({ count: s.count + 1, last: o.n, outOfOrder: s.outOfOrder + (o.n === s.last + 1 ? 0 : 1) }),
};

const dir = mkdtempSync(join(tmpdir(), 'troupe-reliable-'));
const store = new SqliteStore({ path: join(dir, 'orders.db') }); // every node must see the same store (one file per host, or PostgreSQL)
const net = new MemoryNetwork();
const [a, b] = ['a@local', 'b@local'].map((name) => new Node({ name }));
net.mesh(a, b);
for (const n of [a, b]) {
  DistributedSupervisor.registerBehaviour<undefined, never>(n, 'book', { start: (sup, _args, info) => GenServer.startLink(sup, eventSourced(book, store), info.id) });
}
const [supA, supB] = await Promise.all([a, b].map((n) => DistributedSupervisor.start(n, { name: 'books' })));
await supA.whenTargets(2);
await supA.startChild({ behaviour: 'book', id: 'orders' });
await supA.whenRunning('orders');

const ref = supA.ref('orders'); // resolves the child's current pid at each attempt
const producer = await ReliableProducer.start<Order>(a, { producerId: 'shop', target: ref }); // window 50, resend 1 s → 30 s
const sent = Array.from({ length: 1000 }, (_, i) => producer.send({ n: i + 1 })); // each resolves once applied and stored

// Kill the consumer mid-stream: its supervisor restarts it, it replays the journal, the producer resends.
while (producer.stats().confirmed < 300) await new Promise((r) => setTimeout(r, 1));
const victim = ref.whereis()!;
(victim.node === a.name ? a : b).exit(victim, 'kill');

await Promise.all(sent);
const state = await ref.call<Book>('get');
console.log(state, ref.health()); // { count: 1000, last: 1000, outOfOrder: 0 } healthy
console.log(producer.stats().resent > 0 ? 'some orders were resent, none applied twice' : 'nothing needed resending');

await producer.stop();
await Promise.all([supA.stop(), supB.stop()]);
a.shutdown();
b.shutdown();
await store.close();
rmSync(dir, { recursive: true, force: true });
if (state.count !== 1000 || state.outOfOrder !== 0) throw new Error(`expected 1000 orders in order, got ${JSON.stringify(state)}`);
