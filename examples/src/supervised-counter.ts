import { Node, GenServer, Supervisor, isStarted, type ServerRef } from '@troupe/actor-core';

const node = new Node({ name: 'app@localhost' });

// The protocol: what calls may ask, and what they get back.
type Call = { op: 'get' } | { op: 'add'; n: number };
const counter: GenServer<number, Call, never, number> = {
  init: () => ({ ok: 0 }),
  handleCall: (req, _from, n) => {
    const next = req.op === 'add' ? n + req.n : n;
    return { reply: next, state: next };
  },
};

// Supervised: restarted by policy if it crashes.
const sup = await Supervisor.start(node, { strategy: 'one_for_one', intensity: 3, period: 5 }, [
  { id: 'counter', start: (s) => GenServer.startLink(s, counter, undefined, { name: 'counter' }) },
]);
if (!isStarted(sup)) throw new Error('supervisor did not start');

// A typed ServerRef: the compiler checks the request ({ op: 'mul' } does not
// compile) and types the reply as number.
const ref: ServerRef<Call, never, number> = GenServer.ref(node.whereis('counter')!);
const two: number = await GenServer.call(node, ref, { op: 'add', n: 2 });
console.log(two); // 2

// By name: not checked. Any request compiles and the reply is `unknown`;
// a request the server does not understand fails at run time.
console.log(await GenServer.call(node, 'counter', { op: 'get' })); // 2

await Supervisor.stop(node, sup.ok);
node.shutdown();
