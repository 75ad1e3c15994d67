import { describe, expect, it } from 'vitest';
import {
  BadArgError,
  Rpc,
  RPC_SERVER,
  RpcExitError,
  RpcNodeDownError,
  RpcRemoteError,
  RpcTimeoutError,
  RpcUnknownFunctionError,
  type Node,
  type Pid,
} from '../src/index.js';
import { probe, until } from './helpers.js';
import { cluster } from './distribution-helpers.js';

/** A promise the test settles by hand: a remote function that waits for the test. */
function gate<T = void>(): { promise: Promise<T>; open: (v: T) => void } {
  let open!: (v: T) => void;
  const promise = new Promise<T>((r) => (open = r));
  return { promise, open };
}

/** The allow-list every test node gets. */
function exposeAll(n: Node): void {
  Rpc.expose(n, 'add', ([a, b]) => {
    if (typeof a !== 'number' || typeof b !== 'number') throw new TypeError('add needs two numbers');
    return a + b;
  });
  Rpc.expose(n, 'whoami', (_args, info) => ({ node: n.name, from: info.from, caller: info.node }));
  Rpc.expose(n, 'asyncEcho', async ([v]) => {
    await new Promise((r) => setImmediate(r));
    return v;
  });
  Rpc.expose(n, 'throwError', () => {
    throw new RangeError('oops');
  });
  Rpc.expose(n, 'throwValue', () => {
    throw 'ball';
  });
  Rpc.expose(n, 'exit', ([reason], { ctx }) => ctx.exit(reason));
}

function three(): { net: ReturnType<typeof cluster>['net']; a: Node; b: Node; c: Node } {
  const { net, nodes } = cluster(['a', 'b', 'c']);
  const [a, b, c] = nodes as [Node, Node, Node];
  for (const n of nodes) exposeAll(n);
  return { net, a, b, c };
}

describe('rpc over the memory network (rpc_SUITE / erpc_SUITE)', () => {
  it('rpc_SUITE call: a value comes back; the function sees who called', async () => {
    const { a } = three();
    expect(await Rpc.call(a, 'b@mem', 'add', [2, 3])).toBe(5);
    expect(await Rpc.call(a, 'b@mem', 'asyncEcho', [{ deep: [1, 'x'] }])).toEqual({ deep: [1, 'x'] });
    const pa = await probe(a);
    const who = await Rpc.call<{ node: string; from: Pid; caller: string }>(pa.ctx, 'b@mem', 'whoami');
    expect(who.node).toBe('b@mem');
    expect(who.from.equals(pa.pid)).toBe(true);
    expect(who.caller).toBe('a@mem');
    expect((await Rpc.call<{ from: Pid | null }>(a, 'b@mem', 'whoami')).from).toBeNull();
  });

  it('rpc_SUITE call: timeout → RpcTimeoutError; the late answer is dropped, no stray message', async () => {
    const { net, a, b } = three();
    const g = gate<string>();
    Rpc.expose(b, 'slow', () => g.promise);
    const pa = await probe(a);
    const e = await Rpc.call(pa.ctx, 'b@mem', 'slow', [], { timeoutMs: 30 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RpcTimeoutError);
    expect(e).toMatchObject({ code: 'TROUPE_ERR_RPC_TIMEOUT', node: 'b@mem', fn: 'slow', reason: 'timeout', timeoutMs: 30 });
    g.open('too late');
    await until(() => b.processes().every((p) => b.processInfo(p)?.behaviour !== 'rpc:slow'));
    await net.settled();
    expect(await pa.none(undefined, 30)).toBe(true);
    expect(a.mailboxOf(pa.pid)).toEqual([]);
    expect(a.stats().pendingCalls).toBe(0);
  });

  it('rpc_SUITE call: unknown node → RpcNodeDownError at once', async () => {
    const { a } = three();
    // "At once": settled before the event loop's next turn, so no timer (the call timeout or any other) was involved.
    const call = Rpc.call(a, 'nowhere@mem', 'add', [1, 2]).then(
      () => 'resolved',
      (e: unknown) => e,
    );
    const nextTurn = new Promise((r) => setImmediate(() => r('still pending')));
    const first = await Promise.race([call, nextTurn]);
    expect(first).toBeInstanceOf(RpcNodeDownError);
    expect(first).toMatchObject({ node: 'nowhere@mem' });
  });

  it('rpc_SUITE call_reqtmo / erpc_SUITE call_reqtmo: the timeout fires on time even if the request is stuck', async () => {
    const { net, a } = three();
    net.pause(a, 'b@mem'); // the request never leaves a
    const t0 = performance.now();
    const e = await Rpc.call(a, 'b@mem', 'add', [1, 2], { timeoutMs: 100 }).catch((x: unknown) => x);
    // Never early (the 1 ms allows for timer granularity); how late is a matter of load, not asserted here.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(99);
    expect(e).toBeInstanceOf(RpcTimeoutError);
    expect(e).toMatchObject({ node: 'b@mem', fn: 'add', reason: 'timeout', timeoutMs: 100 });
    net.resume(a, 'b@mem');
  });

  it('timeouts: per call, per peer (setNodeTimeout), per node default', async () => {
    const { a, b, c } = three();
    const g = gate();
    Rpc.expose(b, 'hang', () => g.promise);
    Rpc.expose(c, 'hang', () => g.promise);
    Rpc.setNodeTimeout(a, 'b@mem', 20);
    await expect(Rpc.call(a, 'b@mem', 'hang')).rejects.toMatchObject({ timeoutMs: 20 });
    Rpc.setDefaultTimeout(a, 25);
    await expect(Rpc.call(a, 'c@mem', 'hang')).rejects.toMatchObject({ timeoutMs: 25 });
    await expect(Rpc.call(a, 'b@mem', 'hang', [], { timeoutMs: 10 })).rejects.toMatchObject({ timeoutMs: 10 });
    Rpc.setNodeTimeout(a, 'b@mem', undefined);
    await expect(Rpc.call(a, 'b@mem', 'hang')).rejects.toMatchObject({ timeoutMs: 25 });
    expect(() => Rpc.setDefaultTimeout(a, -1)).toThrow(BadArgError);
    g.open();
  });

  it('a slow function does not block other requests (one process per request)', async () => {
    const { a, b } = three();
    const g = gate<string>();
    Rpc.expose(b, 'slow', () => g.promise);
    const slow = Rpc.call(a, 'b@mem', 'slow');
    expect(await Rpc.call(a, 'b@mem', 'add', [1, 1])).toBe(2);
    g.open('done');
    expect(await slow).toBe('done');
  });

  it('rpc_SUITE multicall: results in node order, an unknown node in badNodes', async () => {
    const { a } = three();
    const r = await Rpc.multicall(a, ['c@mem', 'nowhere@mem', 'a@mem', 'b@mem'], 'whoami');
    expect(r.results.map((x) => x.node)).toEqual(['c@mem', 'nowhere@mem', 'a@mem', 'b@mem']);
    expect(r.results.map((x) => (x.ok ? (x.value as { node: string }).node : x.error.constructor.name))).toEqual(['c@mem', 'RpcNodeDownError', 'a@mem', 'b@mem']);
    expect(r.badNodes).toEqual(['nowhere@mem']);
  });

  it('rpc_SUITE multicall_timeout: a node that does not answer in time is a bad node; its late answer is dropped', async () => {
    const { net, a, c } = three();
    const g = gate<string>();
    Rpc.expose(c, 'maybeSlow', () => g.promise);
    Rpc.expose(a, 'maybeSlow', () => 'fast');
    const pa = await probe(a);
    const r = await Rpc.multicall(pa.ctx, ['a@mem', 'c@mem'], 'maybeSlow', [], { timeoutMs: 40 });
    expect(r.results[0]).toEqual({ node: 'a@mem', ok: true, value: 'fast' });
    expect(r.results[1]).toMatchObject({ node: 'c@mem', ok: false, error: expect.any(RpcTimeoutError) });
    expect(r.badNodes).toEqual(['c@mem']);
    g.open('late');
    await net.settled();
    expect(await pa.none(undefined, 20)).toBe(true);
  });

  it('rpc_SUITE multicall_dies: each way of dying is a result, not a bad node', async () => {
    const { a, b, c } = three();
    const killed = gate<Pid>();
    Rpc.expose(c, 'die', (_args, { ctx }) => {
      killed.open(ctx.self);
      return new Promise(() => {});
    });
    Rpc.expose(b, 'die', () => {
      throw new Error('b dies');
    });
    Rpc.expose(a, 'die', (_args, { ctx }) => ctx.exit('a exits'));
    const p = Rpc.multicall(a, ['a@mem', 'b@mem', 'c@mem'], 'die');
    c.exit(await killed.promise, 'kill');
    const r = await p;
    expect(r.badNodes).toEqual([]);
    expect(r.results.map((x) => !x.ok && x.error)).toEqual([
      expect.objectContaining({ reason: 'exit', exitReason: 'a exits' }),
      expect.objectContaining({ reason: 'exception', remote: expect.objectContaining({ message: 'b dies' }) }),
      expect.objectContaining({ reason: 'exit', exitReason: 'killed' }),
    ]);
  });

  it('rpc_SUITE multicall_node_dies: a node lost during the call is a bad node', async () => {
    const { net, a, b } = three();
    const started = gate();
    Rpc.expose(b, 'wait', () => {
      started.open();
      return new Promise(() => {});
    });
    const p = Rpc.multicall(a, ['b@mem', 'c@mem'], 'wait', [], { timeoutMs: 5000 });
    await started.promise;
    void net.disconnect(a, b);
    const r = await p;
    expect(r.badNodes).toEqual(['b@mem']);
    expect(r.results[0]).toMatchObject({ ok: false, error: expect.any(RpcNodeDownError) });
    expect(r.results[1]).toMatchObject({ ok: false, error: expect.any(RpcUnknownFunctionError) });
  });

  it('rpc_SUITE called_dies: exit(reason) in the function, and a kill from outside, give RpcExitError', async () => {
    const { a, b } = three();
    await expect(Rpc.call(a, 'b@mem', 'exit', ['bye'])).rejects.toMatchObject({ code: 'TROUPE_ERR_RPC_EXIT', exitReason: 'bye' });
    await expect(Rpc.call(a, 'b@mem', 'exit', ['normal'])).rejects.toMatchObject({ exitReason: 'normal' });
    const started = gate<Pid>();
    Rpc.expose(b, 'victim', (_args, { ctx }) => {
      started.open(ctx.self);
      return new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted'))));
    });
    const p = Rpc.call(a, 'b@mem', 'victim');
    b.exit(await started.promise, 'kill');
    const e = await p.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RpcExitError);
    expect(e).toMatchObject({ exitReason: 'killed' });
    // The RPC server survives its workers.
    expect(await Rpc.call(a, 'b@mem', 'add', [1, 2])).toBe(3);
  });

  it('rpc_SUITE called_node_dies: the node goes down during the call → RpcNodeDownError', async () => {
    const { net, a, b } = three();
    const started = gate();
    Rpc.expose(b, 'wait', () => {
      started.open();
      return new Promise(() => {});
    });
    const p = Rpc.call(a, 'b@mem', 'wait');
    await started.promise;
    void net.disconnect(a, b);
    await expect(p).rejects.toBeInstanceOf(RpcNodeDownError);
  });

  it('rpc_SUITE called_throws / erpc exception mapping: an Error and a thrown value become RpcRemoteError', async () => {
    const { a } = three();
    const e = (await Rpc.call(a, 'b@mem', 'throwError').catch((x: unknown) => x)) as RpcRemoteError;
    expect(e).toBeInstanceOf(RpcRemoteError);
    expect(e.remote).toMatchObject({ name: 'RangeError', message: 'oops' });
    expect(e.remote.stack).toMatch(/RangeError: oops/);
    expect(e.message).toContain('RangeError: oops');
    const t = (await Rpc.call(a, 'b@mem', 'throwValue').catch((x: unknown) => x)) as RpcRemoteError;
    expect(t).toMatchObject({ reason: 'exception', remote: { name: 'Thrown', message: 'ball' }, thrown: 'ball' });
    await expect(Rpc.call(a, 'b@mem', 'add', ['x', 1])).rejects.toMatchObject({ remote: { name: 'TypeError' } });
  });

  it('erpc_SUITE call: allow-list only — unknown function, a node exposing nothing, bad arguments', async () => {
    const { a, b } = three();
    const e = await Rpc.call(a, 'b@mem', 'process.exit').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RpcUnknownFunctionError);
    expect(e).toMatchObject({ code: 'TROUPE_ERR_RPC_UNDEF', node: 'b@mem', fn: 'process.exit', reason: 'undef' });
    const { nodes } = cluster(['x', 'y']);
    await expect(Rpc.call(nodes[0]!, 'y@mem', 'add', [1, 2])).rejects.toBeInstanceOf(RpcUnknownFunctionError);
    await expect(Rpc.call(a, 'b@mem', '', [])).rejects.toBeInstanceOf(BadArgError);
    await expect(Rpc.call(a, 'b@mem', 'add', 'nope' as unknown as unknown[])).rejects.toBeInstanceOf(BadArgError);
    expect(Rpc.unexpose(b, 'add')).toBe(true);
    await expect(Rpc.call(a, 'b@mem', 'add', [1, 2])).rejects.toBeInstanceOf(RpcUnknownFunctionError);
    expect(Rpc.exposed(b)).not.toContain('add');
  });

  it('calls to the own node go through the same allow-list', async () => {
    const { a } = three();
    expect(await Rpc.call(a, 'a@mem', 'add', [4, 5])).toBe(9);
    await expect(Rpc.call(a, 'a@mem', 'nope')).rejects.toBeInstanceOf(RpcUnknownFunctionError);
    await expect(Rpc.call(a, 'a@mem', 'throwError')).rejects.toBeInstanceOf(RpcRemoteError);
  });

  it('erpc_SUITE cast: runs the function; an unknown node, an unknown function, a throw are all silent', async () => {
    const { net, a, b } = three();
    const pa = await probe(a);
    Rpc.expose(b, 'notify', ([to, v]) => {
      b.send(to as Pid, { notified: v });
    });
    Rpc.cast(a, 'b@mem', 'notify', [pa.pid, 1]);
    expect(await pa.next()).toEqual({ notified: 1 });
    expect(() => Rpc.cast(a, 'nowhere@mem', 'notify', [pa.pid, 2])).not.toThrow();
    expect(() => Rpc.cast(a, 'b@mem', 'unknown', [])).not.toThrow();
    expect(() => Rpc.cast(a, 'b@mem', 'throwError', [])).not.toThrow();
    expect(() => Rpc.cast(a, 'b@mem', 'notify', 'bad' as unknown as unknown[])).toThrow(BadArgError);
    Rpc.cast(pa.ctx, 'b@mem', 'notify', [pa.pid, 3]);
    expect(await pa.next()).toEqual({ notified: 3 });
    await net.settled();
  });

  it('the server name is reserved; expose restarts a server that is gone', async () => {
    const { nodes } = cluster(['r', 's']);
    const [r, s] = nodes as [Node, Node];
    const squatter = r.spawn(async (ctx) => void (await ctx.receive()), { name: RPC_SERVER });
    expect(() => Rpc.expose(r, 'f', () => 1)).toThrow(/reserved/);
    r.exit(squatter, 'kill');
    await until(() => r.whereis(RPC_SERVER) === undefined);
    Rpc.expose(r, 'f', () => 1);
    expect(await Rpc.call(s, 'r@mem', 'f')).toBe(1);
    r.exit(r.whereis(RPC_SERVER)!, 'kill');
    await until(() => r.whereis(RPC_SERVER) === undefined);
    await expect(Rpc.call(s, 'r@mem', 'f')).rejects.toBeInstanceOf(RpcUnknownFunctionError);
    Rpc.expose(r, 'g', () => 2);
    expect(await Rpc.call(s, 'r@mem', 'f')).toBe(1);
  });
});
