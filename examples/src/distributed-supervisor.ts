import { GenServer, MemoryNetwork, Node, } from '@troupe/actor-core';
import { DistributedSupervisor, Registry } from '@troupe/registry-crdt';

const net = new MemoryNetwork();
const nodes = ['a@local', 'b@local', 'c@local'].map((name) => new Node({ name }));
net.mesh(...nodes);

// A behaviour registered under the same name on EVERY node: specs name it, no closure crosses the wire.
const counter: GenServer<number, 'get', 'inc', number, unknown, number> = {
  init: (n) => ({ ok: n }),
  handleCall: (_m, _f, n) => ({ reply: n, state: n }),
  handleCast: (_m, n) => ({ noreply: n + 1 }),
};
for (const n of nodes) {
  DistributedSupervisor.registerBehaviour<{ start: number }, number>(n, 'counter', {
    start: (sup, args, info) => GenServer.startLink(sup, counter, info.handoff ?? args.start), // linked to the local supervisor
    handoff: (pid, node) => GenServer.call<number>(node, pid, 'get'), // state for the next home (drain)
  });
}
const regs = await Promise.all(nodes.map((n) => Registry.start(n, { name: 'names' })));
const sups = await Promise.all(nodes.map((n, i) => DistributedSupervisor.start(n, { name: 'counters', registry: regs[i] })));
await sups[0].whenTargets(3);

const r = await sups[0].startChild({ behaviour: 'counter', name: 'room:1', args: { start: 10 } });
console.log(r); // { ok: Pid, node: <the rendezvous home of 'room:1'> }
GenServer.cast(nodes[0], { via: sups[0], name: 'room:1' }, 'inc');        // the supervisor is a via registry of child ids
await regs[1].whenRegistered('room:1');
console.log(await GenServer.call(nodes[1], { via: regs[1], name: 'room:1' }, 'get')); // 11 (named: in the Registry too)

// Graceful leave of the child's node: handed over with its state, then that instance stops.
const home = sups.find((s) => s.node.name === (r as { node: string }).node)!;
console.log(await home.drain()); // { handedOff: 1, notAdopted: 0 }
const other = sups.find((s) => s !== home)!;
await other.whenRunning('room:1'); // seen running on its new home
console.log(await GenServer.call(other.node, { via: other, name: 'room:1' }, 'get')); // 11, on its new home
for (const n of nodes) n.shutdown();
