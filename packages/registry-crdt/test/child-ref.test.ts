import { afterEach, describe, expect, it } from 'vitest';
import { BadArgError, GenServer, Pid, type Node } from '@troupe/actor-core';
import { ChildRef, DistributedSupervisor, RefUnavailableError, type RefHealth } from '../src/index.js';
import { cluster, shutdownAll, until } from './helpers.js';
import { startSups } from './dsup-helpers.js';

let nodes: Node[] = [];
afterEach(() => shutdownAll(nodes));

/** A child that answers `get` after `ms` (the `slow` behaviour). */
function registerSlow(ns: Node[]): void {
  for (const n of ns) {
    // eslint-disable-next-line @typescript-eslint/no-loop-func
    DistributedSupervisor.registerBehaviour<{ ms: number }, never>(n, 'slow', {
      start: (sup, args) =>
        GenServer.startLink(
          sup,
          {
            init: (ms: number) => ({ ok: ms }),
            handleCall: (req: unknown, from, ms) => {
              if (req === 'fast') return { reply: 'ok', state: ms };
              setTimeout(() => GenServer.reply(n, from, 'ok'), ms);
              return { noreply: ms };
            },
          },
          args.ms,
        ),
    });
  }
}

describe('ChildRef: a DistributedSupervisor child by id', () => {
  it('resolves, calls and sends by id; health is healthy, and not_found for an id nobody runs', async () => {
    const c = cluster(['a', 'b']);
    nodes = c.nodes;
    const sups = await startSups(c.nodes);
    await until(() => sups.every((s) => s.targets().length === 2), 2000, 'both alive');
    expect(await sups[0]!.startChild({ behaviour: 'worker', id: 'w1', args: { start: 5 } })).toHaveProperty('ok');
    await until(() => sups[1]!.whereisName('w1') !== undefined, 2000, 'b sees w1');
    const ref = sups[1]!.ref('w1');
    expect(ref.whereis()).toEqual(sups[0]!.whereisName('w1'));
    expect(ref.health()).toBe('healthy');
    expect(await ref.call<number>('get')).toBe(5);
    await ref.send({ $gen_cast: 'x' }); // any message: the counter ignores infos
    expect(sups[1]!.ref('nobody').health()).toBe<RefHealth>('not_found');
    await expect(sups[1]!.ref('nobody', { attempts: 2, backoffMs: 1 }).call('get')).rejects.toBeInstanceOf(RefUnavailableError);
    await expect(sups[1]!.ref('nobody', { attempts: 2, backoffMs: 1 }).send('x')).rejects.toMatchObject({ code: 'TROUPE_ERR_REF_UNAVAILABLE', health: 'not_found' });
    expect(() => sups[1]!.ref('')).toThrow(BadArgError);
    expect(() => sups[1]!.ref('w1', { attempts: 0 })).toThrow(/attempts/);
  });

  it('follows the child when its node dies: a call made while it moves is retried and answered by the new home', async () => {
    const c = cluster(['a', 'b', 'c']);
    nodes = c.nodes;
    const sups = await startSups(c.nodes, { orphanGraceMs: 200 });
    await until(() => sups.every((s) => s.targets().length === 3), 2000, 'all alive');
    // A child whose home is c, called from a.
    let id = '';
    for (let i = 0; id === ''; i++) if (sups[0]!.homeOf(`m${i}`) === 'c@mem') id = `m${i}`;
    expect(await sups[0]!.startChild({ behaviour: 'worker', id, args: { start: 7 } })).toHaveProperty('ok');
    await until(() => sups[0]!.whereisName(id) !== undefined, 2000, 'a sees it');
    const ref = sups[0]!.ref(id, { attempts: 50, backoffMs: 10, maxBackoffMs: 100, timeoutMs: 500 });
    GenServer.cast(c.nodes[0]!, ref.whereis()!, 'inc');
    expect(await ref.call('get')).toBe(8);
    const seen = new Set<RefHealth>([ref.health()]);
    const unwatch = ref.watch(() => seen.add(ref.health()));
    const moved: Pid[] = [];
    const unwatch2 = ref.watch(() => {
      const p = ref.whereis();
      if (p !== undefined) moved.push(p);
    });
    const old = ref.whereis()!;
    nodes = nodes.filter((n) => n !== c.nodes[2]);
    c.nodes[2]!.shutdown();
    await until(() => !c.nodes[0]!.dist.nodes().includes('c@mem'), 2000, 'a to see c down');
    const answer = ref.call<number>('get'); // the child restarts from its args on a survivor (the counter is not durable)
    seen.add(ref.health());
    await expect(answer).resolves.toBe(7);
    expect(ref.whereis()!.node).not.toBe('c@mem');
    expect(moved.some((p) => !p.equals(old))).toBe(true);
    expect([...seen].some((h) => h !== 'healthy')).toBe(true); // not_found or unreachable while it moved
    expect(await ref.call('get')).toBe(7);
    expect(ref.health()).toBe('healthy');
    unwatch();
    unwatch2();
  });

  it('is degraded after a slow call or one that needed retries, healthy again after a clean one', async () => {
    const c = cluster(['a']);
    nodes = c.nodes;
    registerSlow(c.nodes);
    const [sup] = await DistributedSupervisor.start(c.nodes[0]!, { name: 'slow', discoveryMs: 50 }).then((s) => [s]);
    await until(() => sup!.targets().length === 1, 2000, 'alive');
    await sup!.startChild({ behaviour: 'slow', id: 's', args: { ms: 300 } });
    // Far apart (a fast call under 100 ms, a slow one of 300): a loaded box's pause must not make the fast call slow.
    const ref = sup!.ref('s', { slowMs: 100 });
    expect(ref.health()).toBe('healthy');
    expect(await ref.call('slow')).toBe('ok');
    expect(ref.health()).toBe('degraded');
    expect(await ref.call('fast')).toBe('ok');
    expect(ref.health()).toBe('healthy');
    // A call that times out once is retried; while it retries (and after) the ref is degraded.
    const tight = sup!.ref('s', { timeoutMs: 30, attempts: 2, backoffMs: 1 });
    await expect(tight.call('slow')).rejects.toBeInstanceOf(RefUnavailableError);
    expect(tight.health()).toBe('degraded');
  });

  it('is unreachable when the id resolves to a node that is not connected', () => {
    const c = cluster(['a']);
    nodes = c.nodes;
    const away = new Pid('gone@mem', 1, 1);
    const stub = { node: c.nodes[0]!, whereisName: () => away, onChange: () => () => undefined } as unknown as DistributedSupervisor;
    expect(new ChildRef(stub, 'x').health()).toBe('unreachable');
  });
});
