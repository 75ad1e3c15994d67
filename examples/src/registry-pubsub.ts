import { GenServer, MemoryNetwork, Node } from '@troupe/actor-core';
import { ProcessGroups, PubSub, Registry } from '@troupe/registry-crdt';

const net = new MemoryNetwork();
const a = new Node({ name: 'a@local' });
const b = new Node({ name: 'b@local' });
net.mesh(a, b);

// Registry: a name claimed on a resolves on b (a local read, no round trip).
const [ra, rb] = await Promise.all([a, b].map((n) => Registry.start(n, { name: 'agents' })));
const echo: GenServer<null, string, never, string> = { init: () => ({ ok: null }), handleCall: (m, _f, s) => ({ reply: `echo ${m}`, state: s }) };
await GenServer.start(a, echo, undefined, { name: { via: ra, name: 'echo' } });
await rb.whenRegistered('echo', { timeoutMs: 2000 }); // replicated to b (WaitTimeoutError if not in time)
console.log(await GenServer.call(b, { via: rb, name: 'echo' }, 'hi')); // 'echo hi'

// Process groups: join is local, members are cluster-wide.
const [pa, pb] = await Promise.all([a, b].map((n) => ProcessGroups.start(n)));
pa.join('workers', a.spawn({ handle() {} }));
await pb.whenMembers('workers'); // a's member replicated to b
console.log('workers seen from b:', pb.members('workers').length); // 1

// PubSub: one network message per remote node per broadcast.
const [sa, sb] = await Promise.all([a, b].map((n) => PubSub.start(n, { name: 'events' })));
await sa.whenMembers({ count: 2 }); // b's PubSub joined
const got = new Promise((resolve) => sb.subscribe(b.spawn({ handle: (m) => resolve(m) }), 'room:1'));
sa.broadcast('room:1', { text: 'hello' });
console.log('b got', await got); // b got { text: 'hello' }

a.shutdown();
b.shutdown();
