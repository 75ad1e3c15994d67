import { randomBytes } from 'node:crypto';
import {
  GenServer,
  Node,
  Supervisor,
  exposeIntrospection,
  isStarted,
  silentLogger,
  type Pid,
} from '@troupe/actor-core';
import { WsTransport, meshView } from '@troupe/transport-ws';

export interface Member {
  node: Node;
  transport: WsTransport;
  supervisor: Pid;
}

/** An echo server: answers `{ echo }`, its state counts the calls. */
const echo: GenServer<{ calls: number; last: unknown }, unknown, unknown> = {
  init: () => ({ ok: { calls: 0, last: null } }),
  handleCall: (req, _from, s) => ({ reply: { echo: req }, state: { calls: s.calls + 1, last: req } }),
};

/**
 * Three members on 127.0.0.1 (real WebSocket mesh, one cookie), each with
 * its introspection exposed and a supervisor `app_sup` over a GenServer
 * registered as `echo`.
 */
export async function startMembers(names: string[], cookie = randomBytes(32).toString('hex')): Promise<{ members: Member[]; cookie: string; stop(): Promise<void> }> {
  const members: Member[] = [];
  const stop = async (): Promise<void> => {
    for (const m of members) {
      await m.transport.close().catch(() => {});
      m.node.shutdown();
    }
  };
  try {
    for (const name of names) {
      const node = new Node({ name: `${name}@127.0.0.1`, logger: silentLogger });
      const transport = await WsTransport.start(node, { host: '127.0.0.1', port: 0, cookie });
      exposeIntrospection(node, {
        mesh: () => meshView(transport),
        services: () => ({ registry: { total: 1, conflicts: 0, names: [{ name: `echo-${name}`, pid: node.whereis('echo')?.toString() ?? '', node: node.name }] }, supervisor: { total: 0, children: [] }, groups: [], topics: [{ topic: 'news', subscribers: 2 }] }),
      });
      const r = await Supervisor.start(node, { strategy: 'one_for_one', intensity: 100, period: 1 }, [
        { id: 'echo', start: (sup) => GenServer.startLink(sup, echo, undefined, { name: 'echo' }) },
      ], { name: 'app_sup' });
      if (!isStarted(r)) throw new Error(`app_sup did not start on ${name}`);
      members.push({ node, transport, supervisor: r.ok });
    }
    for (let i = 1; i < members.length; i++) await members[i]!.transport.connect(members[0]!.transport.url);
    // The mesh is complete once every member sees every other.
    const deadline = Date.now() + 10_000;
    while (!members.every((m) => m.transport.nodes('visible').length === members.length - 1)) {
      if (Date.now() > deadline) throw new Error('the mesh did not form in 10 s');
      await new Promise((r) => setTimeout(r, 20));
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { members, cookie, stop };
}
