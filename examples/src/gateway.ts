import { randomBytes } from 'node:crypto';
import { Node } from '@troupe/actor-core';
import { WsTransport } from '@troupe/transport-ws';
import { startAgentServices, startGateway } from '@troupe/gateway';

const node = new Node({ name: 'n1@127.0.0.1' });
const transport = await WsTransport.start(node, { host: '127.0.0.1', port: 0, cookie: randomBytes(32).toString('base64url') }); // and connect to peers
const services = await startAgentServices(node, { logEvents: 'silent' }); // Registry + DistributedSupervisor + event hub "agents"
const gateway = await startGateway({ node, services, port: 0 }); // { url, host, port, close() }; troupe node uses 4000

// JSON-RPC 2.0 over HTTP, as curl or any client would send it.
let id = 0;
const rpc = async (method: string, params: object): Promise<unknown> => {
  const res = await fetch(`${gateway.url}/a2a`, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }) });
  return ((await res.json()) as { result?: unknown; error?: unknown }).result;
};
console.log(await rpc('StartAgent', { name: 'alice' })); // { name: 'alice', node: 'n1@127.0.0.1', status: 'started' }
await rpc('SendMessage', { agent: 'alice', action: 'upper', params: { text: 'hello' } });
console.log(await rpc('ProcessNext', { agent: 'alice' })); // { status: 'processed', task: {...}, result: 'HELLO' }

// Leaving: hand this node's agents over (with their queues), then stop serving HTTP.
await services.stop(); // { drain: false }: stop them here, survivors restart them empty
await gateway.close();
await transport.close();
node.shutdown();
