/**
 * Item: a value nested too deep is refused at the gateway (-32602) before
 * anything is queued, whether the agent is local or across the mesh (real
 * sockets on 127.0.0.1).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ErrorCode, MAX_PARAM_DEPTH, startGateway, type Gateway } from '../src/index.js';
import { call, rpcRaw } from './helpers.js';
import { startWsPair, type WsPair } from './ws-pair.js';

let pair: WsPair;
let g: Gateway;

beforeAll(async () => {
  pair = await startWsPair();
  g = await startGateway({ services: pair.sa });
});

afterAll(async () => {
  await g?.close();
  await pair?.close();
});

/** A SendMessage body whose `delay` value is `depth` arrays deep (built as text: JSON.stringify itself gives up on deep values). */
const deepSend = (agent: string, depth: number, id: number): string =>
  `{"jsonrpc":"2.0","id":${id},"method":"SendMessage","params":{"agent":"${agent}","action":"delay","params":{"ms":0,"value":${'['.repeat(depth)}1${']'.repeat(depth)}}}}`;

it.each([
  ['local', 'a', 10_000],
  ['local', 'a', 3_000],
  ['remote', 'b', 3_000],
  ['remote', 'b', 10_000],
] as const)('a %s agent (on node %s): a value %s deep is -32602 at once, nothing is queued, the state stays readable', async (_where, on, depth) => {
  const name = pair.nameOn(on === 'a' ? pair.a : pair.b, `deep-${on}-${depth}`);
  await call(g.url, 'StartAgent', { name });
  const t0 = Date.now();
  const r = await rpcRaw(g.url, deepSend(name, depth, 7));
  expect(r.status).toBe(200);
  expect(r.body?.id).toBe(7);
  expect(r.body?.error).toMatchObject({ code: ErrorCode.InvalidParams, data: { param: 'params', maxDepth: MAX_PARAM_DEPTH } });
  expect(r.body?.error?.message).toMatch(/nest/);
  expect(Date.now() - t0).toBeLessThan(1000); // refused, not timed out
  expect(await call(g.url, 'GetAgentState', { agent: name })).toMatchObject({ name, queue: [], processed: 0 });
  await call(g.url, 'StopAgent', { agent: name });
});

it('a value exactly MAX_PARAM_DEPTH deep is accepted and round-trips through a remote agent', async () => {
  const name = pair.nameOn(pair.b, 'deep-ok');
  await call(g.url, 'StartAgent', { name });
  // The delay params object and the array nesting inside `value` count: `params` (1) > params (2) > value...
  const r = await rpcRaw(g.url, deepSend(name, MAX_PARAM_DEPTH - 2, 8));
  expect(r.body?.result).toMatchObject({ status: 'queued' });
  const over = await rpcRaw(g.url, deepSend(name, MAX_PARAM_DEPTH - 1, 9));
  expect(over.body?.error).toMatchObject({ code: ErrorCode.InvalidParams });
  const done = await call<{ result: unknown }>(g.url, 'ProcessNext', { agent: name });
  let v = done.result;
  let d = 0;
  while (Array.isArray(v)) {
    v = v[0];
    d++;
  }
  expect([d, v]).toEqual([MAX_PARAM_DEPTH - 2, 1]);
  await call(g.url, 'StopAgent', { agent: name });
});
