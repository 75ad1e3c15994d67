import { Node, TIMEOUT, isDownMessage, type Pid } from '@troupe/actor-core';

const node = new Node({ name: 'app@localhost' });

// Behaviour style: the fast path. handle() runs once per message; a sync
// handler costs no Promise; an async one suspends only its own process.
const adder = node.spawn<number | 'stop', { sum: number }>({
  init: () => ({ sum: 0 }),
  handle(msg, ctx) {
    if (msg === 'stop') ctx.exit({ shutdown: ctx.state.sum });
    else ctx.state.sum += msg;
  },
});

const echo = node.spawn<{ from: Pid; text: string }>({
  handle(msg, ctx) {
    ctx.send(msg.from, msg.text);
  },
});

// Process style: an async body with selective receive.
const watcher = node.spawn(async (ctx) => {
  ctx.monitor(adder);
  ctx.send(echo, { from: ctx.self, text: 'hi' });
  console.log('echo said', await ctx.receive((m) => typeof m === 'string')); // 'hi'
  for (const n of [1, 2, 3]) ctx.send(adder, n);
  ctx.send(adder, 'stop');
  const down = await ctx.receive(isDownMessage, { timeout: 1000 }); // a DownMessage, or TIMEOUT
  if (down === TIMEOUT) throw new Error('no DOWN');
  console.log('adder exited with', down.reason); // { shutdown: 6 }
});

// Wait for the watcher to finish, then stop everything.
await new Promise<void>((resolve) => node.events.on('exit', (e) => e.pid.equals(watcher) && resolve()));
node.shutdown();
