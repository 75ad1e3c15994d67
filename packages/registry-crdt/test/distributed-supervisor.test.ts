import { afterEach, describe, expect, it } from 'vitest';
import { BadArgError, type Node } from '@troupe/actor-core';
import { DistributedSupervisor, homeOf, rendezvous } from '../src/index.js';
import { Orphans, rankOf } from '../src/supervisor/orphans.js';
import { cluster, shutdownAll, until } from './helpers.js';
import { live, startSups } from './dsup-helpers.js';

let nodes: Node[] = [];
afterEach(() => shutdownAll(nodes));

describe('DistributedSupervisor: placement and the cluster-wide API', () => {
  it('places each child on its rendezvous home among the alive members, spread evenly, same view everywhere', async () => {
    const c = cluster(['a', 'b', 'c']);
    nodes = c.nodes;
    const sups = await startSups(c.nodes);
    await until(() => sups.every((s) => s.targets().length === 3), 2000, 'all alive');
    const N = 300;
    for (let i = 0; i < N; i++) {
      const r = await sups[i % 3]!.startChild({ behaviour: 'worker', id: `w${i}`, args: { start: i } });
      expect(r).toMatchObject({ node: homeOf(`w${i}`, ['a@mem', 'b@mem', 'c@mem']) });
    }
    await until(() => sups.every((s) => s.countChildren().active === N), 3000, 'all records everywhere');
    expect(live(c.nodes).length).toBe(N);
    // Exactly as many on each node as rendezvous hashing homes there (an even spread is hashing's property, not asserted here).
    const per = c.nodes.map((n) => sups[c.nodes.indexOf(n)]!.countChildren().local);
    const homed = ['a@mem', 'b@mem', 'c@mem'].map((n) => ids('w', N).filter((id) => homeOf(id, ['a@mem', 'b@mem', 'c@mem']) === n).length);
    expect(per).toEqual(homed);
    const view = (s: DistributedSupervisor): string => JSON.stringify(s.whichChildren().map((x) => [x.id, x.node, x.pid.toString()]).sort());
    expect(new Set(sups.map(view)).size).toBe(1);
    expect(await sups[0]!.startChild({ behaviour: 'worker', id: 'w1' })).toMatchObject({ error: { already_started: sups[0]!.whereisName('w1') } });
  });
});

const ids = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
/** Ids whose home among `among` is `node`. */
const homedOn = (node: string, among: string[], prefix: string, n: number): string[] => {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) if (homeOf(`${prefix}${i}`, among) === node) out.push(`${prefix}${i}`);
  return out;
};
const ABC = ['a@mem', 'b@mem', 'c@mem'];

describe('DistributedSupervisor: failures', () => {
  it('scenario 5 node death: every child of the dead node restarts on its new home among the survivors; none lost, none duplicated; temporary ones stay dead', async () => {
    const c = cluster(['a', 'b', 'c']);
    nodes = c.nodes;
    const sups = await startSups(c.nodes);
    const [a, b, dead] = c.nodes as [Node, Node, Node];
    await until(() => sups.every((s) => s.targets().length === 3), 2000, 'all alive');
    const N = Number(process.env.DSUP_N ?? 3000); // DSUP_N=10000 for the size (~15 s)
    const t0 = performance.now();
    await Promise.all(ids('k', N).map((id, i) => sups[i % 3]!.startChild({ behaviour: 'worker', id, args: { start: i } })));
    const temps = homedOn('c@mem', ABC, 'tmp', 10);
    for (const id of temps) expect(await sups[0]!.startChild({ behaviour: 'worker', id, restart: 'temporary' })).toMatchObject({ node: 'c@mem' });
    await until(() => sups.every((s) => s.countChildren().active === N + 10), 5000, 'all records everywhere');
    const startMs = performance.now() - t0;
    const onDead = sups[0]!.whichChildren().filter((x) => x.node === 'c@mem' && !temps.includes(x.id));
    expect(onDead.length).toBe(ids('k', N).filter((id) => homeOf(id, ABC) === 'c@mem').length);

    const t1 = performance.now();
    dead.shutdown();
    const survivors = [a, b];
    await until(() => sups.slice(0, 2).every((s) => s.countChildren().active === N) && live(survivors).length === N, 8000, 'take-over complete');
    const failoverMs = performance.now() - t1;
    for (const s of sups.slice(0, 2)) {
      const seen = s.whichChildren();
      expect(seen.length).toBe(N);
      expect(new Set(seen.map((x) => x.pid.key)).size).toBe(N);
      for (const x of seen) expect(c.nodes.find((n) => n.name === x.node)!.isAlive(x.pid)).toBe(true);
    }
    const after = new Map(sups[0]!.whichChildren().map((y) => [y.id, y]));
    for (const x of onDead) {
      const now = after.get(x.id)!;
      expect(now.node).toBe(homeOf(x.id, ['a@mem', 'b@mem']));
      expect(now.generation).toBe(1);
    }
    for (const id of temps) expect(sups[0]!.whereisName(id)).toBeUndefined();
    const st = sups.slice(0, 2).map((s) => s.stats());
    expect(st[0]!.takenOver + st[1]!.takenOver).toBe(onDead.length);
    expect(st[0]!.duplicatesStopped + st[1]!.duplicatesStopped).toBe(0);
    console.log(`[measure] dsup: ${N} children started on 3 memory nodes in ${startMs.toFixed(0)} ms; failover of ${onDead.length} children after node death: ${failoverMs.toFixed(0)} ms`);
  }, 60_000);

  it('restart policies on the child’s own node: permanent restarts with the same record, transient only after a crash, temporary never', async () => {
    const c = cluster(['a', 'b']);
    nodes = c.nodes;
    const sups = await startSups(c.nodes);
    await until(() => sups.every((s) => s.targets().length === 2), 2000, 'all alive');
    for (const restart of ['permanent', 'transient', 'temporary'] as const) {
      const r = await sups[0]!.startChild({ behaviour: 'worker', id: restart, restart });
      expect(r).toHaveProperty('ok');
    }
    // Both replicas: nodeOf reads a's, and each child's record reaches the other node after its start's reply.
    await until(() => sups.every((s) => s.countChildren().active === 3), 2000, 'three records on both');
    const nodeOf = (id: string): Node => c.nodes.find((n) => n.name === sups[0]!.whichChildren().find((x) => x.id === id)!.node)!;
    for (const id of ['permanent', 'transient', 'temporary']) {
      const pid = sups[1]!.whereisName(id)!;
      nodeOf(id).exit(pid, 'boom');
    }
    await until(() => {
      const p = sups[1]!.whereisName('permanent');
      const t = sups[1]!.whereisName('transient');
      return p !== undefined && t !== undefined && nodeOf('permanent').isAlive(p) && nodeOf('transient').isAlive(t) && sups[1]!.whereisName('temporary') === undefined;
    }, 3000, 'restarts seen everywhere');
    // A normal exit of a transient child is final.
    nodeOf('transient').exit(sups[1]!.whereisName('transient')!, 'shutdown');
    await until(() => sups.every((s) => s.whereisName('transient') === undefined), 3000, 'transient gone');
    await until(() => sups.every((s) => s.countChildren().active === 1), 2000, 'only the permanent child left, on both');
  });

  it('terminateChild and countChildren are cluster-wide', async () => {
    const c = cluster(['a', 'b', 'c']);
    nodes = c.nodes;
    const sups = await startSups(c.nodes);
    await until(() => sups.every((s) => s.targets().length === 3), 2000, 'all alive');
    for (const id of ids('t', 30)) await sups[0]!.startChild({ behaviour: 'worker', id });
    await until(() => sups.every((s) => s.countChildren().active === 30));
    const far = sups[2]!.whichChildren().filter((x) => x.node !== 'c@mem');
    for (const x of far) expect(await sups[2]!.terminateChild(x.id)).toBe('ok');
    await until(() => sups.every((s) => s.countChildren().active === 30 - far.length), 3000, 'terminated everywhere');
    expect(live(c.nodes).length).toBe(30 - far.length);
    expect(await sups[0]!.terminateChild('nope')).toEqual({ error: 'not_found' });
    expect(sups.reduce((s, x) => s + x.countChildren().local, 0)).toBe(30 - far.length);
  });

  it('bad input: an unknown behaviour, non-data args, a name without a registry, bad options → clear errors', async () => {
    const c = cluster(['a']);
    nodes = c.nodes;
    const [s] = await startSups(c.nodes);
    await expect(s!.startChild({ behaviour: 'nope' })).rejects.toThrow(/unknown behaviour 'nope'.*registerBehaviour.*worker/);
    await expect(s!.startChild({ behaviour: 'worker', args: { f: () => 1 } })).rejects.toThrow(BadArgError);
    await expect(s!.startChild({ behaviour: 'worker', args: new Map() })).rejects.toThrow(/plain data/);
    await expect(s!.startChild({ behaviour: 'worker', name: 'x' })).rejects.toThrow(/registry/);
    await expect(s!.startChild({ behaviour: 'worker', restart: 'sometimes' as 'permanent' })).rejects.toThrow(/restart/);
    await expect(s!.startChild({ behaviour: 'worker', id: '' })).rejects.toThrow(/id/);
    await expect(DistributedSupervisor.start(c.nodes[0]!, { name: 'x', strategy: 'one_for_all' as 'one_for_one' })).rejects.toThrow(/one_for_one/);
    await expect(DistributedSupervisor.start(c.nodes[0]!, { name: '' })).rejects.toThrow(/name/);
    // A behaviour registered here but not on the home node: the home reports it.
    expect(s!.countChildren().active).toBe(0);
  });
});

describe('DistributedSupervisor: placement units', () => {
  it('rendezvous: deterministic, balanced, removing a node moves only its keys, adding one takes ~1/N', () => {
    const five = ['n1', 'n2', 'n3', 'n4', 'n5'];
    const keys = ids('key', 20000);
    const home = new Map(keys.map((k) => [k, homeOf(k, five)!]));
    expect(keys.every((k) => homeOf(k, [...five].reverse()) === home.get(k))).toBe(true);
    const per = five.map((n) => keys.filter((k) => home.get(k) === n).length);
    expect(Math.max(...per) / (keys.length / 5)).toBeLessThan(1.06);
    const four = five.filter((n) => n !== 'n3');
    const moved = keys.filter((k) => homeOf(k, four) !== home.get(k));
    expect(moved.every((k) => home.get(k) === 'n3')).toBe(true);
    const six = [...five, 'n6'];
    const took = keys.filter((k) => homeOf(k, six) !== home.get(k));
    expect(took.every((k) => homeOf(k, six) === 'n6')).toBe(true);
    expect(Math.abs(took.length / keys.length - 1 / 6)).toBeLessThan(0.02);
  });

  it('orphans: the first of the ranking adopts at once, the next only after its grace (longer while take-over progresses)', () => {
    const o = new Orphans();
    const spec = { behaviour: 'w', args: null, restart: 'permanent' as const, shutdown: 5000, named: false };
    o.add({ key: 'x', spec, from: 'dead', gen: 0, handoff: false, ho: undefined }, 1000);
    const nodes = ['a', 'b', 'c'];
    const ranked = rendezvous.rank('x', nodes);
    const none = (): boolean => false;
    expect(o.due(ranked[0]!, 1000, 100, 0, nodes, rendezvous, none).map((x) => x.key)).toEqual(['x']);
    expect(o.due(ranked[1]!, 1050, 100, 0, nodes, rendezvous, none)).toEqual([]);
    expect(o.due(ranked[1]!, 1100, 100, 0, nodes, rendezvous, none).length).toBe(1);
    expect(o.due(ranked[2]!, 1150, 100, 0, nodes, rendezvous, none)).toEqual([]);
    expect(o.due(ranked[2]!, 1200, 100, 0, nodes, rendezvous, none).length).toBe(1);
    // Progress seen at 1150: rank 1 waits until 1250.
    expect(o.due(ranked[1]!, 1200, 100, 1150, nodes, rendezvous, none)).toEqual([]);
    expect(o.due(ranked[1]!, 1250, 100, 1150, nodes, rendezvous, none).length).toBe(1);
    // The node it came from is never a candidate; a claimed orphan is dropped.
    expect(o.due('dead', 99999, 100, 0, [...nodes, 'dead'], rendezvous, none)).toEqual([]);
    expect(o.due(ranked[0]!, 1000, 100, 0, nodes, rendezvous, () => true)).toEqual([]);
    expect(o.size).toBe(0);
  });

  it('orphans: the rank without sorting is the ranking\'s own, and is computed again when the targets change', () => {
    const targets = Array.from({ length: 40 }, (_, i) => `n${i}`);
    for (let i = 0; i < 2000; i++) {
      const key = `k${i}`;
      const self = targets[i % targets.length]!;
      const from = i % 3 === 0 ? self : targets[(i * 7) % targets.length]!;
      expect(rankOf(self, key, from, targets, rendezvous)).toBe(rendezvous.rank(key, targets.filter((n) => n !== from)).indexOf(self));
    }
    expect(rankOf('gone', 'k', 'x', targets, rendezvous)).toBe(-1);
    // One orphan, due on the first of its ranking only: once that node leaves the targets, the next is first.
    const o = new Orphans();
    const spec = { behaviour: 'w', args: null, restart: 'permanent' as const, shutdown: 5000, named: false };
    o.add({ key: 'y', spec, from: 'dead', gen: 0, handoff: false, ho: undefined }, 1000);
    const [first, second] = rendezvous.rank('y', targets);
    const none = (): boolean => false;
    expect(o.due(second!, 1000, 100, 0, targets, rendezvous, none)).toEqual([]);
    expect(o.due(second!, 1000, 100, 0, targets.filter((n) => n !== first), rendezvous, none).map((x) => x.key)).toEqual(['y']);
  });

  it('a behaviour missing on the home node: startChild reports it from there', async () => {
    const c = cluster(['a', 'b']);
    nodes = c.nodes;
    const sups = await startSups(c.nodes);
    await until(() => sups.every((s) => s.targets().length === 2), 2000, 'all alive');
    DistributedSupervisor.registerBehaviour(c.nodes[0]!, 'only-a', { start: (sup) => ({ ok: sup.spawnLink({ handle() {} }) }) });
    const id = homedOn('b@mem', ['a@mem', 'b@mem'], 'oa', 1)[0]!;
    expect(await sups[0]!.startChild({ behaviour: 'only-a', id })).toEqual({ error: { unknown_behaviour: 'only-a', node: 'b@mem' } });
    expect(sups[0]!.countChildren().specs).toBe(0);
  });
});
