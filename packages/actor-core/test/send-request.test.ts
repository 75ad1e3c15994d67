import { describe, expect, it } from 'vitest';
import { nodesPerTest, until } from './helpers.js';
import { GenServer, type From, type Node, type Pid } from '../src/index.js';

/**
 * Rules (OTP 25 `gen_server:send_request/2,4`, `wait_response/2,3`,
 * `receive_response/2,3`, `reqids_*`): a request id stands for one call in
 * flight. `waitResponse` with a timeout gives `'timeout'` and keeps the
 * request (the reply can still be had); `receiveResponse` abandons it on
 * timeout (a later reply is dropped). Errors: `{ error: { reason, server } }`.
 * A collection holds labelled ids; each wait takes the first reply to arrive
 * and gives the rest back; an empty collection gives `'no_request'`.
 */

const node = nodesPerTest();

/** Answers `{ delay, value }` after `delay` ms; `'crash'` crashes it. */
async function delayed(n: Node): Promise<Pid> {
  const r = await GenServer.start(n, {
    init: () => ({ ok: null }),
    handleCall: (req: unknown, from: From, s: null) => {
      if (req === 'crash') throw new Error('boom');
      const { delay, value } = req as { delay: number; value: unknown };
      setTimeout(() => GenServer.reply(n, from, value), delay);
      return { noreply: s };
    },
  }, undefined);
  return (r as { ok: Pid }).ok;
}

describe('send_request / wait_response / receive_response', () => {
  it('gen_server_SUITE:send_request — wait_response(R, 0) is timeout and the reply still comes later', async () => {
    const n = node();
    const srv = await delayed(n);
    const id = GenServer.sendRequest(n, srv, { delay: 20, value: 'v' });
    expect(await GenServer.waitResponse(id, 0)).toBe('timeout');
    expect(await GenServer.waitResponse(id, 1000)).toEqual({ reply: 'v' });
  });

  it('gen_server_SUITE:send_request — receive_response abandons the request on timeout', async () => {
    const n = node();
    const srv = await delayed(n);
    const id = GenServer.sendRequest(n, srv, { delay: 30, value: 'late' });
    expect(await GenServer.receiveResponse(id, 5)).toBe('timeout');
    expect(await GenServer.waitResponse(id, 100)).toBe('timeout');
    expect(n.stats().pendingCalls).toBe(0);
  });

  it('gen_server_SUITE:send_request — errors are { error: { reason, server } }', async () => {
    const n = node();
    const srv = await delayed(n);
    const dead = n.spawn({ handle() {} });
    n.exit(dead, 'kill');
    expect(await GenServer.waitResponse(GenServer.sendRequest(n, dead, 'x'), 1000)).toEqual({ error: { reason: 'noproc', server: dead } });
    const crash = await GenServer.receiveResponse(GenServer.sendRequest(n, srv, 'crash'), 1000);
    expect(crash).toMatchObject({ error: { reason: { error: { message: 'boom' } }, server: srv } });
  });

  it('gen_server_SUITE:send_request_wait_reqid_collection — labels, arrival order, no_request when empty', async () => {
    const n = node();
    const srv = await delayed(n);
    let c = GenServer.reqIdsNew<string>();
    c = GenServer.sendRequest(n, srv, { delay: 40, value: 'slow' }, 'a', c);
    c = GenServer.sendRequest(n, srv, { delay: 1, value: 'fast' }, 'b', c);
    c = GenServer.reqIdsAdd(GenServer.sendRequest(n, srv, { delay: 20, value: 'mid' }), 'c', c);
    expect(GenServer.reqIdsSize(c)).toBe(3);
    const got: [unknown, string][] = [];
    for (;;) {
      const r = await GenServer.waitResponse(c, 1000);
      if (r === 'no_request' || r === 'timeout') {
        expect(r).toBe('no_request');
        break;
      }
      got.push([r.response, r.label]);
      c = r.collection;
    }
    expect(got).toEqual([
      [{ reply: 'fast' }, 'b'],
      [{ reply: 'mid' }, 'c'],
      [{ reply: 'slow' }, 'a'],
    ]);
  });

  it('gen_server_SUITE:send_request_receive_reqid_collection — receive_response on a collection abandons all on timeout; keep: false keeps the ids', async () => {
    const n = node();
    const srv = await delayed(n);
    let c = GenServer.reqIdsNew<number>();
    c = GenServer.sendRequest(n, srv, { delay: 1, value: 1 }, 1, c);
    const first = await GenServer.waitResponse(c, 1000, false);
    expect(first).toMatchObject({ response: { reply: 1 }, label: 1 });
    expect(GenServer.reqIdsSize((first as { collection: typeof c }).collection)).toBe(1);
    c = GenServer.sendRequest(n, srv, { delay: 50, value: 2 }, 2, GenServer.reqIdsNew<number>());
    expect(await GenServer.receiveResponse(c, 5)).toBe('timeout');
    await until(() => n.stats().pendingCalls === 0);
  });
});
