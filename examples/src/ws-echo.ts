import { randomBytes } from 'node:crypto';
import { Node, type Pid } from '@troupe/actor-core';
import { WsTransport } from '@troupe/transport-ws';

// At least 128 bits, never a word: one under that fails `start` (unless `allowInsecureCookie`).
const cookie = randomBytes(32).toString('base64url');
const a = new Node({ name: 'a@127.0.0.1' });
const b = new Node({ name: 'b@127.0.0.1' });
const ta = await WsTransport.start(a, { port: 0, cookie });
const tb = await WsTransport.start(b, { port: 0, cookie });
ta.on('nodedown', (e) => console.log('down', e.node, e.reason));

b.spawn(async (ctx) => {
  const m = (await ctx.receive()) as { from: Pid; text: string };
  ctx.send(m.from, `echo: ${m.text}`);
}, { name: 'echo' });

console.log(await ta.connect(tb.url)); // 'b@127.0.0.1'
const answered = new Promise<void>((resolve) => {
  a.spawn(async (ctx) => {
    ctx.send({ name: 'echo', node: 'b@127.0.0.1' }, { from: ctx.self, text: 'hi' });
    console.log(await ctx.receive()); // 'echo: hi'
    resolve();
  });
});
await answered;

await tb.close(); // a sees: down b@127.0.0.1 connection_closed
await ta.close();
a.shutdown();
b.shutdown();
