/**
 * Item: an agent crashing on another node reaches HTTP clients as a
 * message, never with its stack (file paths, code structure). Real sockets
 * on 127.0.0.1: the mesh between two nodes and HTTP.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GenServer } from '@troupe/actor-core';
import { ErrorCode, startGateway, type Gateway } from '../src/index.js';
import { call, openEvents, rpc, until, type EventStream } from './helpers.js';
import { startWsPair, type WsPair } from './ws-pair.js';

let pair: WsPair;
let g: Gateway;
let ev: EventStream;

beforeAll(async () => {
  pair = await startWsPair();
  g = await startGateway({ services: pair.sa });
  ev = await openEvents(g.url, '?types=agent_stopped,agent_started');
});

afterAll(async () => {
  ev?.close();
  await g?.close();
  await pair?.close();
});

/** What a V8 stack looks like: frames (`    at f (file:line:col)`) and source paths. */
const STACK = /\n\s+at |\bat .*\(.*:\d+:\d+\)|\.ts:\d+|\.js:\d+|node_modules|\/work\//;

it('a task that crashes its agent on another node: the JSON-RPC error and the agent_stopped event carry the message, not the stack', async () => {
  const name = pair.nameOn(pair.b, 'crasher');
  await call(g.url, 'StartAgent', { name });
  // A task the gateway would never queue (it validates params), as a node of another version might hand over:
  // `sum` of a non-array throws inside the agent, on b.
  await GenServer.call(pair.b, { via: pair.sb.registry, name }, { op: 'enqueue', action: 'sum', params: { numbers: 5 }, via: 'test' }, 2000);
  const from = ev.mark();
  const r = await rpc(g.url, 'ProcessNext', { agent: name });
  expect(r.body?.error).toMatchObject({ code: ErrorCode.InternalError });
  expect(r.body?.error?.message).toMatch(/TypeError/);
  expect(JSON.stringify(r.body)).not.toMatch(STACK);
  const stopped = await ev.waitFor((e) => e.event === 'agent_stopped' && e.data.agent === name, { from });
  expect(JSON.stringify(stopped.data.data['reason'])).toMatch(/TypeError/);
  expect(JSON.stringify(stopped.data)).not.toMatch(STACK);
  await ev.waitFor((e) => e.event === 'agent_started' && e.data.agent === name, { from }); // restarted (permanent)
  await call(g.url, 'StopAgent', { agent: name });
});

it('an agent on another node stops with an error reason while a call waits for it: the caller gets the reason without its stack', async () => {
  const name = pair.nameOn(pair.b, 'shot');
  await call(g.url, 'StartAgent', { name });
  await call(g.url, 'SendMessage', { agent: name, action: 'delay', params: { ms: 500 } });
  const pid = pair.sb.registry.whereisName(name)!;
  const handled = pair.b.processInfo(pid)!.handled;
  const busy = rpc(g.url, 'ProcessNext', { agent: name });
  await until('the agent took the call (and waits out the delay)', () => pair.b.processInfo(pid)!.handled > handled);
  // Its supervisor's shutdown, carrying an error (as an operator's or a library's code may): queued behind the running task.
  const err = new Error('disk on fire');
  pair.b.exit(pid, { shutdown: { error: { name: err.name, message: err.message, stack: err.stack } } });
  await until('the exit is in its mailbox', () => pair.b.processInfo(pid)!.mailbox > 0);
  const r = await rpc(g.url, 'GetAgentState', { agent: name }); // behind the exit: the agent stops first
  expect(r.body?.error).toMatchObject({ code: ErrorCode.InternalError });
  expect(r.body?.error?.message).toMatch(/disk on fire/);
  expect(JSON.stringify(r.body)).not.toMatch(STACK);
  expect((await busy).body?.result).toMatchObject({ status: 'processed' });
  await until('restarted', async () => (await rpc(g.url, 'GetAgentState', { agent: name })).body?.result !== undefined);
  await call(g.url, 'StopAgent', { agent: name });
});
