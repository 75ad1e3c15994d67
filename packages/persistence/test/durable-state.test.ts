import { afterEach, describe, expect, it } from 'vitest';
import { CallExitError, GenServer, isDownMessage, isStarted, type Node } from '@troupe/actor-core';
import { probe, testNode } from '@troupe/actor-core/testing';
import { MemoryStore, durableState, type DurableStateBehaviour, type DurableStateServerState } from '../src/index.js';

type Cmd = { op: 'add'; n: number; requestId?: string } | { op: 'get' };
interface Cart {
  items: number[];
}
const log: string[] = [];
const cart: DurableStateBehaviour<Cart, Cmd, number[]> = {
  persistenceId: (id) => `cart-${id}`,
  initialState: () => ({ items: [] }),
  messageId: (c) => (c.op === 'add' ? c.requestId : undefined),
  handleCommand(c, s) {
    log.push(c.op);
    if (c.op === 'get') return { reply: s.items };
    const items = [...s.items, c.n];
    return { state: { items }, reply: items };
  },
};

let nodes: Node[] = [];
afterEach(() => {
  for (const n of nodes) n.shutdown();
  nodes = [];
  log.length = 0;
});
function node(): Node {
  const n = testNode(`ds${nodes.length}@local`);
  nodes.push(n);
  return n;
}

async function start(n: Node, store: MemoryStore, id = 'a') {
  const r = await GenServer.start(n, durableState(cart, { states: store.states }), id);
  if (!isStarted(r)) throw new Error('start failed');
  return r.ok;
}

describe('durable-state server', () => {
  it('stores the whole state with a revision per change and recovers it', async () => {
    const n = node();
    const store = new MemoryStore();
    const ref = await start(n, store);
    expect(await GenServer.call(n, ref, { op: 'add', n: 1 })).toEqual([1]);
    expect(await GenServer.call(n, ref, { op: 'add', n: 2 })).toEqual([1, 2]);
    await GenServer.call(n, ref, { op: 'get' }); // no change: no write
    expect((await store.states.get('cart-a'))?.revision).toBe(2);
    await GenServer.stop(n, ref);
    const again = await start(n, store);
    expect(await GenServer.call(n, again, { op: 'get' })).toEqual([1, 2]);
    expect(await GenServer.getState<DurableStateServerState<Cart>>(n, again)).toMatchObject({ id: 'cart-a', revision: 2, state: { items: [1, 2] } });
  });

  it('a write against a stale revision fails: the server stops and its state is not changed in the store', async () => {
    const n = node();
    const store = new MemoryStore();
    const a = await start(n, store);
    const b = await start(n, store);
    await GenServer.call(n, a, { op: 'get' });
    await GenServer.call(n, b, { op: 'get' });
    const p = await probe(n);
    const mon = p.ctx.monitor(b);
    await GenServer.call(n, a, { op: 'add', n: 1 });
    await expect(GenServer.call(n, b, { op: 'add', n: 99 })).rejects.toBeInstanceOf(CallExitError);
    expect(await p.next((m) => isDownMessage(m) && m.ref.equals(mon))).toMatchObject({ reason: { persist_failed: { id: 'cart-a', code: 'TROUPE_ERR_REVISION_CONFLICT' } } });
    expect((await store.states.get('cart-a'))?.state).toMatchObject({ s: { items: [1] } });
  });

  it('a retried message id gets the stored reply and changes nothing, also after a restart', async () => {
    const n = node();
    const store = new MemoryStore();
    const ref = await start(n, store);
    expect(await GenServer.call(n, ref, { op: 'add', n: 5, requestId: 'x' })).toEqual([5]);
    expect(await GenServer.call(n, ref, { op: 'add', n: 5, requestId: 'x' })).toEqual([5]);
    await GenServer.stop(n, ref);
    const again = await start(n, store);
    expect(await GenServer.call(n, again, { op: 'add', n: 5, requestId: 'x' })).toEqual([5]);
    expect(await GenServer.call(n, again, { op: 'get' })).toEqual([5]);
    expect(log.filter((l) => l === 'add')).toHaveLength(1);
  });

  it('upgrades a state stored with an older version', async () => {
    const n = node();
    const store = new MemoryStore();
    await store.states.upsert('cart-old', 0, { s: { list: '1,2' } }, 1);
    const b: DurableStateBehaviour<Cart, Cmd, number[]> = {
      ...cart,
      stateVersion: 2,
      upgradeState: (s) => ({ items: (s as { list: string }).list.split(',').map(Number) }),
    };
    const r = await GenServer.start(n, durableState(b, { states: store.states }), 'old');
    if (!isStarted(r)) throw new Error('start failed');
    expect(await GenServer.call(n, r.ok, { op: 'add', n: 3 })).toEqual([1, 2, 3]);
    expect((await store.states.get('cart-old'))?.version).toBe(2);
  });
});
