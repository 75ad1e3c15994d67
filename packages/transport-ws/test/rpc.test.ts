import { afterEach, describe, expect, it } from 'vitest';
import {
  Rpc,
  RpcExitError,
  RpcNodeDownError,
  RpcRemoteError,
  RpcTimeoutError,
  RpcUnknownFunctionError,
  type Node,
  type Pid,
} from '@troupe/actor-core';
import { Cluster, nextEvent, probe, type TestNode } from './helpers.js';
import { freeze } from '../src/testing/index.js';

const c = new Cluster();
afterEach(() => c.closeAll());

function gate<T = void>(): { promise: Promise<T>; open: (v: T) => void } {
  let open!: (v: T) => void;
  const promise = new Promise<T>((r) => (open = r));
  return { promise, open };
}

function exposeAll(n: Node): void {
  Rpc.expose(n, 'add', ([a, b]) => (a as number) + (b as number));
  Rpc.expose(n, 'whoami', (_args, info) => ({ node: n.name, from: info.from }));
  Rpc.expose(n, 'sleepEcho', async ([v]) => {
    await new Promise((r) => setImmediate(r));
    return v;
  });
  Rpc.expose(n, 'throwError', () => {
    throw new RangeError('oops over ws');
  });
  Rpc.expose(n, 'exit', ([reason], { ctx }) => ctx.exit(reason));
}

/** Three nodes in a full mesh over WebSocket, each exposing the same functions. */
async function mesh(): Promise<[TestNode, TestNode, TestNode]> {
  const a = await c.start('a@local');
  const b = await c.start('b@local');
  const d = await c.start('d@local');
  await a.t.connect(b.t.url);
  await a.t.connect(d.t.url);
  await b.t.waitFor('d@local');
  for (const n of [a, b, d]) exposeAll(n.node);
  return [a, b, d];
}

describe('rpc over WebSocket (rpc_SUITE / erpc_SUITE)', () => {
  it('rpc_SUITE call: values (with pids) cross the wire; unknown node fails at once', async () => {
    const [a] = await mesh();
    expect(await Rpc.call(a.node, 'b@local', 'add', [40, 2])).toBe(42);
    expect(await Rpc.call(a.node, 'd@local', 'sleepEcho', [{ list: [1, 2], s: 'x' }])).toEqual({ list: [1, 2], s: 'x' });
    const pa = await probe(a.node);
    const who = await Rpc.call<{ node: string; from: Pid }>(pa.ctx, 'b@local', 'whoami');
    expect(who.node).toBe('b@local');
    expect(who.from.equals(pa.pid)).toBe(true);
    await expect(Rpc.call(a.node, 'zz@local', 'add', [1, 2])).rejects.toBeInstanceOf(RpcNodeDownError);
  });

  it('rpc_SUITE call: timeout → RpcTimeoutError, the late answer is dropped (no stray message)', async () => {
    const [a, b] = await mesh();
    const g = gate<string>();
    const done = gate();
    Rpc.expose(b.node, 'slow', async () => {
      const v = await g.promise;
      queueMicrotask(() => done.open());
      return v;
    });
    const pa = await probe(a.node);
    await expect(Rpc.call(pa.ctx, 'b@local', 'slow', [], { timeoutMs: 50 })).rejects.toBeInstanceOf(RpcTimeoutError);
    g.open('late');
    await done.promise;
    // A round trip after the late answer: anything stray would be in the mailbox before it.
    expect(await Rpc.call(pa.ctx, 'b@local', 'add', [1, 1])).toBe(2);
    expect(a.node.mailboxOf(pa.pid)).toEqual([]);
    expect(a.node.stats().pendingCalls).toBe(0);
  });

  it('rpc_SUITE call_reqtmo: the timeout fires on time while the peer does not read', async () => {
    const [a, b] = await mesh();
    freeze(b.t, 'a@local');
    const t0 = performance.now();
    const e = await Rpc.call(a.node, 'b@local', 'add', [1, 2], { timeoutMs: 150 }).catch((x: unknown) => x);
    // Never early (the 1 ms allows for timer granularity); how late is a matter of load, not asserted here.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(149);
    expect(e).toBeInstanceOf(RpcTimeoutError);
    expect(e).toMatchObject({ node: 'b@local', fn: 'add', reason: 'timeout', timeoutMs: 150 });
  });

  it('rpc_SUITE multicall / multicall_timeout: node order, bad nodes', async () => {
    const [a, b, d] = await mesh();
    const r = await Rpc.multicall(a.node, ['d@local', 'b@local', 'a@local', 'zz@local'], 'whoami');
    expect(r.results.map((x) => (x.ok ? (x.value as { node: string }).node : 'bad'))).toEqual(['d@local', 'b@local', 'a@local', 'bad']);
    expect(r.badNodes).toEqual(['zz@local']);
    const g = gate<number>();
    Rpc.expose(d.node, 'maybe', () => g.promise);
    Rpc.expose(b.node, 'maybe', () => 1);
    const r2 = await Rpc.multicall(a.node, ['b@local', 'd@local'], 'maybe', [], { timeoutMs: 60 });
    expect(r2.results[0]).toEqual({ node: 'b@local', ok: true, value: 1 });
    expect(r2.results[1]).toMatchObject({ node: 'd@local', ok: false, error: expect.any(RpcTimeoutError) });
    expect(r2.badNodes).toEqual(['d@local']);
    g.open(2);
  });

  it('rpc_SUITE multicall_dies / multicall_node_dies', async () => {
    const [a, b, d] = await mesh();
    Rpc.expose(b.node, 'die', () => {
      throw new Error('b dies');
    });
    const started = gate();
    Rpc.expose(d.node, 'die', () => {
      started.open();
      return new Promise(() => {});
    });
    Rpc.expose(a.node, 'die', (_args, { ctx }) => ctx.exit('a exits'));
    const p = Rpc.multicall(a.node, ['a@local', 'b@local', 'd@local'], 'die', [], { timeoutMs: 5000 });
    await started.promise;
    const down = nextEvent(a.t, 'nodedown', (e) => e.node === 'd@local');
    await d.t.close();
    await down;
    const r = await p;
    expect(r.results.map((x) => (x.ok ? 'ok' : x.error.constructor.name))).toEqual(['RpcExitError', 'RpcRemoteError', 'RpcNodeDownError']);
    expect(r.badNodes).toEqual(['d@local']);
  });

  it('rpc_SUITE called_dies / called_throws: exit and exception mapping; the stack crosses the wire', async () => {
    const [a, b] = await mesh();
    await expect(Rpc.call(a.node, 'b@local', 'exit', [{ shutdown: 'bye' }])).rejects.toMatchObject({ exitReason: { shutdown: 'bye' } });
    const started = gate<Pid>();
    Rpc.expose(b.node, 'victim', (_args, { ctx }) => {
      started.open(ctx.self);
      return new Promise(() => {});
    });
    const p = Rpc.call(a.node, 'b@local', 'victim');
    b.node.exit(await started.promise, 'kill');
    await expect(p).rejects.toSatisfy((e) => e instanceof RpcExitError && e.exitReason === 'killed');
    const e = (await Rpc.call(a.node, 'b@local', 'throwError').catch((x: unknown) => x)) as RpcRemoteError;
    expect(e).toBeInstanceOf(RpcRemoteError);
    expect(e.remote).toMatchObject({ name: 'RangeError', message: 'oops over ws' });
    expect(e.remote.stack).toMatch(/oops over ws/);
  });

  it('rpc_SUITE called_node_dies: the node closes during the call → RpcNodeDownError', async () => {
    const [a, b] = await mesh();
    const started = gate();
    Rpc.expose(b.node, 'wait', () => {
      started.open();
      return new Promise(() => {});
    });
    const p = Rpc.call(a.node, 'b@local', 'wait').catch((e: unknown) => e);
    await started.promise;
    await b.t.close();
    expect(await p).toBeInstanceOf(RpcNodeDownError);
  });

  it('erpc_SUITE call / cast: allow-list only; cast runs it, and is silent for unknown nodes and functions', async () => {
    const [a, b] = await mesh();
    await expect(Rpc.call(a.node, 'b@local', 'eval', ['process.exit()'])).rejects.toBeInstanceOf(RpcUnknownFunctionError);
    const pa = await probe(a.node);
    Rpc.expose(b.node, 'notify', ([to, v]) => b.node.send(to as Pid, { notified: v }));
    Rpc.cast(pa.ctx, 'b@local', 'notify', [pa.pid, 7]);
    expect(await pa.next()).toEqual({ notified: 7 });
    Rpc.cast(a.node, 'zz@local', 'notify', [pa.pid, 8]);
    Rpc.cast(a.node, 'b@local', 'eval', []);
    Rpc.cast(a.node, 'b@local', 'notify', [pa.pid, 9]);
    expect(await pa.next()).toEqual({ notified: 9 });
    expect(b.log.lines.some((l) => /not exposed/.test(l.msg))).toBe(true);
  });
});
