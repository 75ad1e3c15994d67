/**
 * registry-crdt over real transport-ws node processes (the scenarios where
 * death matters, as real OS processes): netsplit + heal with named
 * children (3), SIGKILL of a node with many children (5), restart with the
 * same name and a new creation (6), graceful rolling restart with drain (7).
 * Each node runs a Registry `names` and a DistributedSupervisor `rooms`
 * whose named children are registered in it (test/registry-scenarios.ts).
 *
 * Sizes are set for CI on 2 cores (≤ 4 node processes): netsplit with 1,000
 * children and SIGKILL with 10,000 children in the cluster (~3,300 on the
 * victim) — the sizes; the SIGKILL test takes ~8-20 s on a loaded
 * 2-core machine (most of it starting the 10k children), hence its own 60 s
 * timeout — and a rolling restart of 3 nodes with 300 children.
 */
import { describe, expect, it } from 'vitest';
import type { Pid } from '@troupe/actor-core';
import type { Cluster, NodeHandle } from '@troupe/harness';
import { FAST_TICKS, REG_SCENARIOS, SCENARIOS, useClusters } from './helpers.js';
import type { Census } from './registry-scenarios.js';

const start = useClusters();

async function cluster(nodes: string[]): Promise<Cluster> {
  const c = await start({ nodes, scenarios: [SCENARIOS, REG_SCENARIOS], transport: FAST_TICKS, logLevel: 'warn' });
  await Promise.all(c.nodes.map((h) => h.run('regSetup')));
  await Promise.all(c.nodes.map((h) => h.run('regAwaitTargets', nodes.length)));
  return c;
}

/**
 * Polls every node's census until `ok` holds for all of them (bounded; the
 * poll interval only paces the IPC requests). Resolves to the last censuses.
 */
async function converge(hs: NodeHandle[], ok: (cs: Census[]) => boolean, what: string, timeoutMs = 15_000): Promise<Census[]> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const cs = await Promise.all(hs.map((h) => h.run<Census>('regCensus')));
    if (ok(cs)) return cs;
    if (performance.now() > deadline) throw new Error(`not converged (${what}): ${JSON.stringify(cs.map((c) => ({ ...c, ids: c.ids.length })))}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Exactly `n` live children over `cs`, no id twice, and every node resolving the same `n` names to live pids. */
function settled(n: number) {
  return (cs: Census[]): boolean => {
    const ids = cs.flatMap((c) => c.ids);
    return (
      ids.length === n &&
      new Set(ids).size === n &&
      cs.every((c) => c.names === n && c.digest === cs[0]!.digest && c.badLocal === 0 && c.unreachable === 0)
    );
  };
}

describe('registry-crdt across node processes', () => {
  it('scenario 3: netsplit {a,b}|{c,d} + heal with 1,000 named children: each side restarts what it lost; after heal exactly 1,000 live, identical everywhere', async () => {
    const N = 1000;
    const c = await cluster(['a', 'b', 'c', 'd']);
    const [a, b, cc, d] = ['a', 'b', 'c', 'd'].map((n) => c.node(n));
    const all = [a!, b!, cc!, d!];
    expect(await a!.run('regStartRooms', 'room:', 0, N)).toEqual({ ok: N, errors: [] });
    const before = await converge(all, settled(N), 'started');
    expect(before.every((x) => x.live > 0)).toBe(true); // spread over all four

    const marks = all.map((h) => h.mark());
    for (const x of [a!, b!]) for (const y of [cc!, d!]) await c.partition(x, y);
    for (const [i, h] of all.entries()) {
      for (const other of i < 2 ? [cc!, d!] : [a!, b!]) await h.waitNodeDown(other.name, { since: marks[i]!, timeoutMs: 10_000 });
    }
    // Each side on its own: all 1,000 running and resolvable there.
    const t0 = performance.now();
    await converge([a!, b!], settled(N), 'side {a,b}');
    await converge([cc!, d!], settled(N), 'side {c,d}');
    const splitMs = performance.now() - t0;

    const h0 = performance.now();
    for (const x of [a!, b!]) for (const y of [cc!, d!]) await c.heal(x, y);
    await c.waitForMesh();
    const after = await converge(all, settled(N), 'healed');
    const healMs = performance.now() - h0;
    // Every duplicate was stopped on exactly one side: one conflict exit per duplicated name.
    const stopped = after.reduce((s, x) => s + x.duplicatesStopped + x.conflicts, 0);
    expect(stopped).toBeGreaterThan(0);
    console.log(`[registry-cluster] netsplit: side restarts ${splitMs.toFixed(0)} ms after nodedown; heal converged in ${healMs.toFixed(0)} ms; ${stopped} duplicate stops/conflict exits`);
  });

  it('scenario 5: SIGKILL of a node holding ~3,300 of 10,000 children: all restarted on the survivors, none duplicated, none lost', async () => {
    const N = 10_000;
    const c = await cluster(['a', 'b', 'victim']);
    const [a, b, victim] = [c.node('a'), c.node('b'), c.node('victim')];
    const t0 = performance.now();
    expect(await a.run('regStartRooms', 'room:', 0, N, 200)).toEqual({ ok: N, errors: [] });
    const before = await converge([a, b, victim], settled(N), 'started', 20_000);
    const startMs = performance.now() - t0;
    const victimIds = before[2]!.ids;
    expect(victimIds.length).toBeGreaterThan(N / 6);

    const killedAt = await victim.kill();
    const after = await converge([a, b], settled(N), 'after kill', 20_000);
    const failoverMs = performance.timeOrigin + performance.now() - killedAt;
    // Counted over the survivors' live processes: every id exactly once (none duplicated), all N of them (none lost).
    const ids = after.flatMap((x) => x.ids);
    const expected = Array.from({ length: N }, (_, i) => `room:${i}`);
    expect(ids.length).toBe(N);
    expect([...new Set(ids)].sort()).toEqual(expected.sort());
    // The survivors kept what they ran and took over every child of the victim.
    const kept = new Set(before[0]!.ids.concat(before[1]!.ids));
    expect(ids.filter((id) => !kept.has(id)).sort()).toEqual([...victimIds].sort());
    // The dead node's names now resolve to the same pids of the survivors on both (badLocal/unreachable are 0 in `settled`).
    const names = victimIds.filter((_, i) => i % 50 === 0);
    const pids = await a.run<(Pid | null)[]>('regLookup', names);
    expect(pids.every((p) => p !== null && p.node !== victim.name)).toBe(true);
    expect(await b.run<(Pid | null)[]>('regLookup', names)).toEqual(pids);
    console.log(`[registry-cluster] SIGKILL: ${N} children started and settled in ${startMs.toFixed(0)} ms; the victim's ${victimIds.length} running elsewhere ${failoverMs.toFixed(0)} ms after the kill`);
  }, 60_000);

  it('scenario 6: restart with the same name and a new creation: old claims purged at once, never a stale pid, names re-claimable', async () => {
    const c = await cluster(['a', 'b', 'c']);
    const [a, b, c3] = [c.node('a'), c.node('b'), c.node('c')];
    const old = await b.run<Pid[]>('regRegisterIdle', 'svc:', 200);
    await Promise.all([a, c3].map((h) => h.run('regAwaitNames', 200)));
    const oldCreation = b.creation;

    await b.restart();
    expect(b.creation).not.toBe(oldCreation);
    await c.waitForMesh();
    // The old incarnation's claims are gone on the survivors without any purge timeout.
    await Promise.all([a, c3].map((h) => h.run('regAwaitNames', 0, 5000)));
    await b.run('regSetup');
    await Promise.all([a, b, c3].map((h) => h.run('regAwaitTargets', 3)));
    // The new incarnation claims the same names: everyone resolves them to its new pids only.
    const fresh = await b.run<Pid[]>('regRegisterIdle', 'svc:', 200);
    await Promise.all([a, c3].map((h) => h.run('regAwaitNames', 200)));
    const names = Array.from({ length: 200 }, (_, i) => `svc:${i}`);
    for (const h of [a, c3]) {
      const seen = await h.run<(Pid | null)[]>('regLookup', names);
      expect(seen.every((p) => p !== null && p.creation === b.creation)).toBe(true);
      expect(seen).toEqual(fresh);
    }
    expect(fresh.some((p, i) => p.equals(old[i]))).toBe(false);
  });

  it('scenario 7: graceful rolling restart with drain over 3 nodes and 300 children: zero lost, zero duplicated, state handed over', async () => {
    const N = 300;
    const c = await cluster(['a', 'b', 'c']);
    const hs = [c.node('a'), c.node('b'), c.node('c')];
    expect(await hs[0]!.run('regStartRooms', 'room:', 0, N)).toEqual({ ok: N, errors: [] });
    await converge(hs, settled(N), 'started');
    let handedOff = 0;
    for (const h of hs) {
      const r = await h.run<{ handedOff: number; notAdopted: number }>('regDrain');
      expect(r.notAdopted).toBe(0);
      handedOff += r.handedOff;
      // Drained: nothing runs there, and the others run everything exactly once.
      const rest = hs.filter((x) => x !== h);
      const cs = await converge(rest, settled(N), `drained ${h.name}`);
      expect(cs.reduce((s, x) => s + x.conflicts + x.duplicatesStopped, 0)).toBe(0);
      await h.restart();
      await c.waitForMesh();
      await h.run('regSetup');
      await Promise.all(hs.map((x) => x.run('regAwaitTargets', 3)));
      await converge(hs, settled(N), `${h.name} back`);
    }
    expect(handedOff).toBeGreaterThanOrEqual(N / 3); // every child moved at least once over the roll
    // State survived the hand-offs: room:i still holds i.
    for (const i of [0, 7, 150, 299]) expect(await hs[1]!.run<number>('regRoomState', `room:${i}`)).toBe(i);
    const final = await converge(hs, settled(N), 'final');
    expect(final.reduce((s, x) => s + x.conflicts + x.duplicatesStopped, 0)).toBe(0);
  });
});
