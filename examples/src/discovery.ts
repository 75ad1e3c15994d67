import { randomBytes } from 'node:crypto';
import { Node } from '@troupe/actor-core';
import { StaticSeeds, WsTransport } from '@troupe/transport-ws';

// At least 128 bits, never a word: one under that fails `start` (unless `allowInsecureCookie`).
const cookie = randomBytes(32).toString('base64url');
const seed = new Node({ name: 'seed@127.0.0.1' });
const tSeed = await WsTransport.start(seed, { port: 0, cookie });

// A member that finds the cluster itself: dialled each intervalMs until connected,
// failures logged and retried with backoff (discovery never throws).
const node = new Node({ name: 'app@127.0.0.1' });
const t = await WsTransport.start(node, {
  port: 0,
  cookie,
  discovery: [
    new StaticSeeds([tSeed.url], { intervalMs: 1000 }), // e.g. ['ws://10.0.0.5:5000', 'ws://10.0.0.6:5000']
    // Kubernetes: every A record of a headless service is a member on mesh port 5000:
    // new DnsPoll({ name: 'troupe.default.svc.cluster.local', port: 5000, intervalMs: 5000 }),
  ],
});
await t.waitFor('seed@127.0.0.1', 5000);
console.log(t.nodes()); // [ 'seed@127.0.0.1' ]

await t.close(); // also stops its discovery
await tSeed.close();
node.shutdown();
seed.shutdown();
