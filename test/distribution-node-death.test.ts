/**
 * A node dies (kill -9): links and monitors held on other nodes resolve with
 * `noconnection` at once, pending calls fail with NodeDownError
 * (every link fires noconnection, every monitor a DOWN, every call fails).
 */
import { describe, expect, it } from 'vitest';
import type { Pid } from '@troupe/actor-core';
import { useClusters } from './helpers.js';

const start = useClusters();

describe('node death across processes', () => {
  it('monitor_SUITE/dist_link: kill -9 of a node; links and monitors on two survivors get noconnection, nodedown connection_closed', async () => {
    const c = await start({ nodes: ['victim', 'b', 'c'] });
    const [victim, b, c2] = [c.node('victim'), c.node('b'), c.node('c')];
    const [target] = await victim.run<Pid[]>('spawnIdle', 1);
    const target2 = await victim.spawn('idle');
    const survivors = [b, c2];
    const probes = await Promise.all(survivors.map((h) => h.probe({ trapExit: true })));
    // An untrapped process linked to the victim's process dies with it (noconnection).
    const plain = await Promise.all(survivors.map((h) => h.probe()));
    for (let i = 0; i < 2; i++) {
      await probes[i]!.link(target!);
      await probes[i]!.monitor(target!, target2);
      await plain[i]!.link(target!);
    }
    const marks = survivors.map((h) => h.mark());
    await victim.kill();

    for (let i = 0; i < 2; i++) {
      const h = survivors[i]!;
      const down = await h.waitNodeDown(victim.name, { since: marks[i]! });
      expect(down.reason).toBe('connection_closed'); // the closed socket, not the tick timeout (that would be net_tick_timeout)
      const exit = await probes[i]!.nextExit({ since: marks[i]! });
      expect(exit.from).toEqual(target);
      expect(exit.reason).toBe('noconnection');
      const downs = await probes[i]!.waitDowns(2, { since: marks[i]! });
      expect(downs.map((d) => d.reason)).toEqual(['noconnection', 'noconnection']);
      expect(downs.map((d) => String(d.object)).sort()).toEqual([String(target), String(target2)].sort());
      const died = await h.waitEvent((e) => e.kind === 'probe_exit' && e.probe === plain[i]!.id, { since: marks[i]! });
      expect(died).toMatchObject({ reason: 'noconnection' });
    }
    // The survivors still form a cluster.
    expect(await b.nodes()).toEqual([c2.name]);
    expect(await c2.nodes()).toEqual([b.name]);
    expect(await b.call({ name: 'echo', node: c2.name }, 'x', 1000).catch((e: Error) => e.name)).toBe('NoProcError');
  });

  it('monitor_nodes_many: 1,000 remote monitors resolved on one node death', async () => {
    const c = await start({ nodes: ['victim', 'watcher'] });
    const [victim, watcher] = [c.node('victim'), c.node('watcher')];
    const pids = await victim.run<Pid[]>('spawnIdle', 1000);
    const probe = await watcher.probe();
    const refs = await probe.monitor(...pids);
    expect(new Set(refs.map(String)).size).toBe(1000);
    const mark = watcher.mark();
    await victim.kill();
    const downs = await probe.waitDowns(1000, { since: mark, timeoutMs: 10_000 });
    expect(downs.every((d) => d.reason === 'noconnection')).toBe(true);
    expect(new Set(downs.map((d) => String(d.ref)))).toEqual(new Set(refs.map(String)));
    // Each monitor fires exactly once.
    expect(probe.downs(mark)).toHaveLength(1000);
  });

  it('gen_server_SUITE call_remote_n1/n2: a call to a killed node fails with NodeDownError, in flight and after', async () => {
    const c = await start({ nodes: ['server', 'client'] });
    const [server, client] = [c.node('server'), c.node('client')];
    await server.run('startSilent', 'silent');
    const dest = { name: 'silent', node: server.name };
    const inFlight = client.call(dest, 'hello', 10_000).then(
      () => null,
      (e: Error & { code?: string }) => e,
    );
    // The call has reached the server when the server process's mailbox took it.
    const srv = (await server.whereis('silent'))!;
    await expectEventually(async () => (await server.processInfo(srv))?.handled === 1);
    await server.kill();
    const err = await inFlight;
    expect(err?.name).toBe('NodeDownError'); // the node's death, not the 10 s call timeout (CallTimeoutError)
    expect(err?.code).toBe('TROUPE_ERR_NODEDOWN');
    // After the node is gone: fails at once, never dials.
    const after = await client.call(dest, 'again', 10_000).then(
      () => null,
      (e: Error) => e,
    );
    expect(after?.name).toBe('NodeDownError');
  });
});

/** Polls an inspection request (over IPC, no sleeps) until it holds; bounded. */
async function expectEventually(cond: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setImmediate(r));
  }
}
