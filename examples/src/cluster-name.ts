import { Node, GenServer, MemoryNetwork } from '@troupe/actor-core';
import { Registry, DistributedSupervisor } from '@troupe/registry-crdt';

type Call = { op: 'get' } | { op: 'add'; n: number };
const counter: GenServer<number, Call, never, number> = {
  init: () => ({ ok: 0 }),
  handleCall: (req, _from, n) => {
    const next = req.op === 'add' ? n + req.n : n;
    return { reply: next, state: next };
  },
};

// Two nodes in one process for the example; with WsTransport they are OS processes on any hosts.
const net = new MemoryNetwork();
const nodes = [new Node({ name: 'a@local' }), new Node({ name: 'b@local' })];
net.mesh(...nodes);

// On every node: the same behaviour name (no closure crosses the wire), one Registry and one supervisor.
const sups = [];
for (const node of nodes) {
  DistributedSupervisor.registerBehaviour(node, 'counter', { start: (sup) => GenServer.startLink(sup, counter, undefined) });
  const names = await Registry.start(node, { name: 'names' });
  sups.push(await DistributedSupervisor.start(node, { name: 'counters', registry: names }));
}
await sups[0].whenTargets(nodes.length); // both members seen

const started = await sups[0].startChild({ behaviour: 'counter', name: 'room:1' }); // placed on one member by rendezvous hashing
if (typeof started !== 'object' || !('ok' in started)) throw new Error(`not started: ${JSON.stringify(started)}`);
console.log('room:1 runs on', started.node);
// From any node, through that node's supervisor (a via registry of its children):
const b = sups[1];
await b.whenRunning('room:1');
console.log(await GenServer.call(b.node, { via: b, name: 'room:1' }, { op: 'add', n: 1 })); // 1

for (const node of nodes) node.shutdown();
