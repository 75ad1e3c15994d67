import { randomBytes } from 'node:crypto';
import { Node, GenServer } from '@troupe/actor-core';
import { WsTransport } from '@troupe/transport-ws';

type Call = { op: 'get' } | { op: 'add'; n: number };
const counter: GenServer<number, Call, never, number> = {
  init: () => ({ ok: 0 }),
  handleCall: (req, _from, n) => {
    const next = req.op === 'add' ? n + req.n : n;
    return { reply: next, state: next };
  },
};

const a = new Node({ name: 'a@127.0.0.1' });
const b = new Node({ name: 'b@127.0.0.1' });
const cookie = randomBytes(32).toString('base64url'); // or TROUPE_COOKIE, or ~/.troupe.cookie (created with 256 random bits)
const ta = await WsTransport.start(a, { port: 0, cookie });
const tb = await WsTransport.start(b, { port: 0, cookie });
await ta.connect(tb.url); // one member is enough: the mesh is transitive

await GenServer.start(b, counter, undefined, { name: 'counter' });
console.log(await GenServer.call(a, { name: 'counter', node: 'b@127.0.0.1' }, { op: 'add', n: 1 })); // 1

await ta.close();
await tb.close();
a.shutdown();
b.shutdown();
