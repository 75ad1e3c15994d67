import { afterEach, describe, expect, it } from 'vitest';
import { probe, testNode, until } from './helpers.js';
import { cluster } from './distribution-helpers.js';
import { DynamicSupervisor, GenServer, Supervisor, type Node, type Pid } from '../src/index.js';

/**
 * Rule: protocol envelopes (call, cast, system and supervisor requests) are
 * values of private classes that only the runtime makes; no user payload —
 * local, or decoded from a peer — is ever taken for one. Keys such as `$sys`,
 * `$gen`, `$sup`, `$dsup` in user data are plain data.
 */

let all: Node[] = [];
afterEach(() => {
  for (const n of all) n.shutdown();
  all = [];
});

const forged = [
  { $sys: 'get_state' },
  { $sys: 'stop', reason: 'forged' },
  { $gen: 'call', req: 'x' },
  { $gen: 'cast', req: 'x' },
  { $sup: 'which_children' },
  { $sup: 'stop', $dsup: 'stop', reason: 'forged' },
  { $dsup: 'count_children' },
];

async function echoServer(origin: Node, to: Pid): Promise<Pid> {
  const r = await GenServer.start(origin, {
    init: () => ({ ok: 'state' }),
    handleCall: (req: unknown, _f, s: string) => ({ reply: { echo: req }, state: s }),
    handleCast: (req: unknown, s: string) => {
      origin.send(to, { cast: req });
      return { noreply: s };
    },
    handleInfo: (m: unknown, s: string) => {
      origin.send(to, { info: m });
      return { noreply: s };
    },
  }, undefined);
  return (r as { ok: Pid }).ok;
}

describe('protocol envelopes cannot be forged by user data', () => {
  it('gen_server rule — a call request carrying $sys/$gen/$sup/$dsup keys reaches handleCall', async () => {
    const n = testNode();
    all.push(n);
    const p = await probe(n);
    const srv = await echoServer(n, p.pid);
    for (const req of forged) expect(await GenServer.call(n, srv, req)).toEqual({ echo: req });
    expect(n.isAlive(srv)).toBe(true);
    expect(await GenServer.getState(n, srv)).toBe('state');
  });

  it('gen_server rule — a message shaped like a call or cast envelope is an info message', async () => {
    const n = testNode();
    all.push(n);
    const p = await probe(n);
    const srv = await echoServer(n, p.pid);
    const fake = { $gen: 'cast', req: 'x' };
    n.send(srv, fake);
    expect(await p.next()).toEqual({ info: fake });
    const fakeCall = { $gen: 'call', from: { node: n.name, tag: 1, pid: null }, req: 'x' };
    n.send(srv, fakeCall);
    expect(await p.next()).toEqual({ info: fakeCall });
    GenServer.cast(n, srv, { $gen: 'cast' });
    expect(await p.next()).toEqual({ cast: { $gen: 'cast' } });
  });

  it('supervisor rule — a user call shaped like a supervisor request is a bad request, not an operation', async () => {
    const n = testNode();
    all.push(n);
    const sup = ((await Supervisor.start(n, {}, [])) as { ok: Pid }).ok;
    const dsup = ((await DynamicSupervisor.start(n)) as { ok: Pid }).ok;
    expect(await n.call(sup, { $sup: 'which_children' })).toEqual({ error: { bad_request: { $sup: 'which_children' } } });
    expect(await n.call(dsup, { $dsup: 'count_children' })).toEqual({ error: { bad_request: { $dsup: 'count_children' } } });
    n.send(sup, { $sup: 'try_again', id: 'x' });
    n.send(dsup, { $dsup: 'try_again', key: 'x' });
    expect(await Supervisor.whichChildren(n, sup)).toEqual([]);
    expect(await DynamicSupervisor.countChildren(n, dsup)).toMatchObject({ specs: 0 });
  });

  it('distribution rule — remote cast, stop, getState and supervisor calls still cross; a peer’s user payload never poses as an envelope', async () => {
    const { nodes } = cluster(['a', 'b']);
    all.push(...nodes);
    const [a, b] = nodes as [Node, Node];
    const p = await probe(b);
    const srv = await echoServer(b, p.pid);
    GenServer.cast(a, srv, 'real cast');
    expect(await p.next()).toEqual({ cast: 'real cast' });
    a.send(srv, { $gen: 'cast', req: 'forged' });
    expect(await p.next()).toEqual({ info: { $gen: 'cast', req: 'forged' } });
    for (const req of forged) expect(await GenServer.call(a, srv, req)).toEqual({ echo: req });
    expect(await GenServer.getState(a, srv)).toBe('state');
    const sup = ((await Supervisor.start(b, {}, [])) as { ok: Pid }).ok;
    expect(await Supervisor.whichChildren(a, sup)).toEqual([]);
    await GenServer.stop(a, srv);
    await until(() => !b.isAlive(srv));
  });
});
