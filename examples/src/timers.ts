import { Node, GenServer, isStarted, type TimeoutMessage } from '@troupe/actor-core';

const node = new Node({ name: 'app@localhost' });

// A GenServer using every callback: init, handleCall, handleCast, handleInfo, handleContinue, terminate.
type Info = TimeoutMessage<'tick'> | 'flush';
const ticker: GenServer<{ ticks: number; log: string[] }, 'ticks', 'tick-later', number, Info, number> = {
  init: (first) => ({ ok: { ticks: first, log: [] }, continue: 'warm-up' }), // handleContinue runs before any message
  handleContinue: (_cont, s, ctx) => {
    s.log.push('warmed up');
    ctx.sendAfter(10, ctx.self, 'flush'); // plain message after 10 ms
    return { noreply: s };
  },
  handleCast: (_req, s, ctx) => {
    ctx.startTimer(5, ctx.self, 'tick'); // delivers { type: 'timeout', ref, msg: 'tick' }
    return { noreply: s };
  },
  handleInfo: (msg, s) => {
    if (msg === 'timeout') return { noreply: s }; // an idle `timeout` action would arrive here
    if (msg === 'flush') s.log.push('flushed');
    else s.ticks++;
    return { noreply: s };
  },
  handleCall: (_req, _from, s) => ({ reply: s.ticks, state: s }),
  terminate: (reason, s) => console.log('terminate', reason, s.log),
};

const started = await GenServer.start(node, ticker, 0);
if (!isStarted(started)) throw new Error('ticker did not start');
const server = started.ok;
GenServer.cast(node, server, 'tick-later');

// Timers from outside a process: the node's own sendAfter / startTimer / cancelTimer / readTimer.
const never = node.sendAfter(60_000, server, 'flush');
console.log(typeof node.readTimer(never)); // 'number': ms left
console.log(node.cancelTimer(never) !== false); // true: it was pending and will not fire
console.log(node.readTimer(never)); // false: cancelled

await new Promise((r) => setTimeout(r, 30));
console.log(await GenServer.call(node, server, 'ticks')); // 1
await GenServer.stop(node, server); // terminate normal [ 'warmed up', 'flushed' ]
node.shutdown();
