import { MemoryNetwork, Node, Rpc, RpcUnknownFunctionError } from '@troupe/actor-core';

const net = new MemoryNetwork(); // any transport: WsTransport between OS processes
const a = new Node({ name: 'a@host' });
const b = new Node({ name: 'b@host' });
const c = new Node({ name: 'c@host' });
net.mesh(a, b, c);

// Only what a node exposes can be called; the arguments come from the peer: validate them.
for (const n of [b, c]) Rpc.expose(n, 'add', ([x, y]) => Number(x) + Number(y));

console.log(await Rpc.call(a, 'b@host', 'add', [1, 2], { timeoutMs: 1000 })); // 3
console.log(await Rpc.multicall(a, ['b@host', 'c@host'], 'add', [1, 2], { timeoutMs: 1000 })); // { results: [{ node, ok: true, value: 3 }, ...], badNodes: [] }
Rpc.cast(a, 'b@host', 'add', [1, 2]); // no answer; silent for unknown nodes
try {
  await Rpc.call(a, 'b@host', 'mul', [2, 3], { timeoutMs: 1000 });
} catch (e) {
  // Also: RpcTimeoutError, RpcNodeDownError, RpcRemoteError (name/message/stack), RpcExitError.
  console.log(e instanceof RpcUnknownFunctionError); // true
}

for (const n of [a, b, c]) n.shutdown();
