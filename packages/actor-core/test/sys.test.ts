import { describe, expect, it } from 'vitest';
import {
  BadArgError,
  GenServer,
  Rpc,
  Supervisor,
  Sys,
  exposeIntrospection,
  formatPrometheus,
  isStarted,
  nodeMetrics,
  renderValue,
  type GenStartResult,
  type StartResult,
  type Node,
  type NodeSnapshot,
  type Pid,
  type ProcessDetail,
  type SysEvent,
  type TraceRead,
  type TreeNode,
} from '../src/index.js';
import { probe, testNode, until } from './helpers.js';
import { cluster } from './distribution-helpers.js';

function okPid(r: GenStartResult | StartResult): Pid {
  if (!isStarted(r)) throw new Error(`start failed: ${JSON.stringify(r)}`);
  return r.ok;
}

type Msg = { add: number } | 'get';
const counter: GenServer<number, Msg, Msg> = {
  init: () => ({ ok: 0 }),
  handleCall: (req, _from, s) => (req === 'get' ? { reply: s, state: s } : { reply: s + req.add, state: s + req.add }),
  handleCast: (req, s) => ({ noreply: req === 'get' ? s : s + req.add }),
};

describe('renderValue', () => {
  it('is bounded in depth, entries, string length and total size, and survives cycles', () => {
    const cyc: Record<string, unknown> = { a: 1 };
    cyc.self = cyc;
    expect(renderValue(cyc)).toBe('{ a: 1, self: [Circular] }');
    const deep: unknown[] = [];
    let cur = deep;
    for (let i = 0; i < 10_000; i++) cur = (cur[0] = []) as unknown[];
    expect(renderValue(deep, { depth: 3 })).toBe('[[[[…]]]]');
    expect(renderValue(Array.from({ length: 1000 }, (_, i) => i), { entries: 3 })).toBe('[0, 1, 2, … 997 more]');
    expect(renderValue('x'.repeat(1000), { string: 5 })).toBe('"xxxxx…"');
    const big = renderValue(Array.from({ length: 10_000 }, () => 'y'.repeat(100)), { total: 1000, entries: 10_000 });
    expect(big.length).toBeLessThanOrEqual(1001);
    expect(big.endsWith('…')).toBe(true);
  });

  it('never runs user code: getters, proxies, toJSON are not called', () => {
    let called = 0;
    const o = {
      get secret(): string {
        called++;
        return 'x';
      },
      toJSON() {
        called++;
        return 'y';
      },
    };
    const p = new Proxy({}, { ownKeys: () => { called++; return []; }, get: () => { called++; return 1; } });
    expect(renderValue({ o, p, m: new Map([[1, new Set(['a'])]]) })).toBe('{ o: { secret: [Getter], toJSON: [Function toJSON] }, p: [Proxy], m: Map(1) { 1 => Set(1) { "a" } } }');
    expect(called).toBe(0);
  });
});

describe('Sys on a GenServer', () => {
  it('getState, suspend (only system messages handled, others wait in order), resume', async () => {
    const node = testNode('sys@local');
    const pid = okPid(await GenServer.start(node, counter, undefined));
    await GenServer.call(node, pid, { add: 1 });
    await Sys.suspend(node, pid);
    GenServer.cast(node, pid, { add: 10 });
    const late = GenServer.call<number>(node, pid, { add: 100 });
    let settled = false;
    void late.then(() => (settled = true));
    // get_state is a system message: answered while suspended, before the queued cast.
    expect(await Sys.getState(node, pid)).toBe(1);
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    await Sys.resume(node, pid);
    expect(await late).toBe(111);
    expect(await Sys.getState(node, pid)).toBe(111);
    node.shutdown();
  });

  it('statistics count messages in and out from when they were turned on', async () => {
    const node = testNode('stats@local');
    const pid = okPid(await GenServer.start(node, counter, undefined));
    expect(Sys.statistics(node, pid)).toBeUndefined();
    Sys.statistics(node, pid, true);
    for (let i = 0; i < 5; i++) await GenServer.call(node, pid, 'get');
    const s = Sys.statistics(node, pid)!;
    expect(s.messagesIn).toBe(5);
    expect(s.messagesOut).toBe(5); // the replies
    expect(Sys.statistics(node, pid, false)?.messagesIn).toBe(5);
    expect(Sys.statistics(node, pid)).toBeUndefined();
    node.shutdown();
  });
});

describe('Sys.trace', () => {
  it('records incoming and outgoing messages with their peers; off again after untrace', async () => {
    const node = testNode('trace@local');
    const p = await probe(node);
    const echo = node.spawn({
      handle(m: unknown, ctx) {
        ctx.send(p.pid, { echo: m });
      },
    });
    expect(Sys.trace(node, echo)).toBe(true);
    const seen: string[] = [];
    Sys.onTrace(node, echo, (e) => seen.push(`${e.dir} ${e.msg}`));
    node.send(echo, { hello: 1 });
    await p.next((m): m is unknown => true);
    const r = Sys.traceEvents(node, echo)!;
    expect(r.events.map((e) => [e.dir, e.msg, e.peer])).toEqual([
      ['in', '{ hello: 1 }', null],
      ['out', '{ echo: { hello: 1 } }', p.pid.toString()],
    ]);
    expect(seen).toEqual(['in { hello: 1 }', 'out { echo: { hello: 1 } }']);
    expect(Sys.traceEvents(node, echo, r.lastSeq)!.events).toEqual([]);
    expect(Sys.untrace(node, echo)).toBe(true);
    node.send(echo, { hello: 2 });
    await p.next((m): m is unknown => true);
    expect(Sys.traceEvents(node, echo)).toBeUndefined();
    expect(node.lookup(echo)!.hook).toBeNull();
    node.shutdown();
  });

  it('records a traced server\'s GenServer.cast and deferred GenServer.reply as outgoing', async () => {
    const node = testNode('deferred@local');
    const target = okPid(await GenServer.start(node, counter, undefined));
    const deferred: GenServer<null, 'go', never> = {
      init: () => ({ ok: null }),
      handleCall: (_req, from, s, ctx) => {
        GenServer.cast(ctx, target, { add: 5 });
        GenServer.reply(ctx, from, 'later');
        return { noreply: s };
      },
    };
    const pid = okPid(await GenServer.start(node, deferred, null));
    Sys.trace(node, pid);
    expect(await GenServer.call(node, pid, 'go')).toBe('later');
    expect(Sys.traceEvents(node, pid)!.events.filter((e) => e.dir === 'out').map((e) => [e.peer, e.msg])).toEqual([
      [target.toString(), '{ $gen: "cast", req: { add: 5 } }'],
      ['deferred@local', '{ reply: "later" }'],
    ]);
    node.shutdown();
  });

  it('is bounded: the buffer keeps the newest events, the per-second budget drops the rest', () => {
    const node = testNode('bounded@local');
    const sink = node.spawn({ handle() {} });
    Sys.trace(node, sink, { buffer: 10, perSecond: 50 });
    for (let i = 0; i < 1000; i++) node.send(sink, i);
    const r = Sys.traceEvents(node, sink)!;
    expect(r.events.length).toBe(10);
    expect(r.events.map((e) => e.msg)).toEqual(['40', '41', '42', '43', '44', '45', '46', '47', '48', '49']);
    expect(r.dropped).toBe(950);
    expect(() => Sys.trace(node, sink, { buffer: 0 })).toThrow(BadArgError);
    expect(() => Sys.trace(node, sink, { perSecond: 1e9 })).toThrow(BadArgError);
    node.shutdown();
  });

  it('ends by itself after durationMs', async () => {
    const node = testNode('expire@local');
    const sink = node.spawn({ handle() {} });
    Sys.trace(node, sink, { durationMs: 20 });
    expect(Sys.isTraced(node, sink)).toBe(true);
    await until(() => !Sys.isTraced(node, sink), 2000, 'trace expiry');
    expect(node.lookup(sink)!.hook).toBeNull();
    node.shutdown();
  });
});

describe('introspection over the mesh', () => {
  it('node snapshot, processes, process detail, trees with restart counts, events, trace, kill — from another node', async () => {
    const { nodes } = cluster(['obs', 'a']);
    const [obs, a] = nodes as [Node, Node];
    exposeIntrospection(a);
    const worker: GenServer<{ n: number }, 'ping', never> = {
      init: () => ({ ok: { n: 42 } }),
      handleCall: (_r, _f, s) => ({ reply: 'pong', state: s }),
    };
    const sup = okPid(await Supervisor.start(a, { strategy: 'one_for_one' }, [{ id: 'w', start: (s) => GenServer.startLink(s, worker, undefined, { name: 'w' }) }]));
    const w = a.whereis('w')!;
    const snap = await Rpc.call<NodeSnapshot>(obs, 'a@mem', 'troupe.sys.node');
    expect(snap.node).toBe('a@mem');
    expect(snap.processes).toBe(a.processCount + 1); // and the RPC executor that took the snapshot
    expect(snap.peers.visible).toContain('obs@mem');
    const list = await Rpc.call<{ rows: { pid: string; name: string | null }[] }>(obs, 'a@mem', 'troupe.sys.processes');
    expect(list.rows.find((r) => r.name === 'w')?.pid).toBe(w.toString());
    const d = await Rpc.call<ProcessDetail>(obs, 'a@mem', 'troupe.sys.process', [w.toString()]);
    expect(d.state).toBe('{ n: 42 }');
    expect(d.linkList).toEqual([sup.toString()]);
    expect(d.behaviour).toBe('gen_server');

    expect(await Rpc.call(obs, 'a@mem', 'troupe.sys.trace', [w.toString()])).toBe(true);
    await GenServer.call(obs, { name: 'w', node: 'a@mem' }, 'ping');
    const tr = await Rpc.call<TraceRead>(obs, 'a@mem', 'troupe.sys.traceRead', [w.toString(), 0]);
    expect(tr.events.map((e) => `${e.dir}:${e.msg}`)).toEqual([expect.stringMatching(/^in:\{ \$gen: "call".*"ping"/), 'out:{ reply: "pong" }']);

    await expect(Rpc.call(obs, 'a@mem', 'troupe.sys.kill', [w.toString(), ''])).rejects.toThrow(/reason/);
    expect(await Rpc.call(obs, 'a@mem', 'troupe.sys.kill', [w.toString(), 'observer test'])).toBe(true);
    await until(() => a.whereis('w') !== undefined && !a.whereis('w')!.equals(w), 2000, 'restart');
    const trees = await Rpc.call<TreeNode[]>(obs, 'a@mem', 'troupe.sys.trees');
    const root = trees.find((t) => t.pid === sup.toString())!;
    expect(root.restarts).toBe(1);
    expect(root.children.map((c) => [c.id, c.pid])).toEqual([['w', a.whereis('w')!.toString()]]);
    const ev = await Rpc.call<SysEvent[]>(obs, 'a@mem', 'troupe.sys.events', [0]);
    expect(ev.map((e) => e.kind)).toEqual(expect.arrayContaining(['crash', 'restart']));
    expect(ev.find((e) => e.kind === 'crash')?.reason).toBe('observer test');
    await expect(Rpc.call(obs, 'a@mem', 'troupe.sys.process', ['<obs@mem.1.1>'])).rejects.toThrow(/not a process of a@mem/);
    await expect(Rpc.call(obs, 'a@mem', 'troupe.sys.process', [{ evil: 1 }])).rejects.toThrow(/pid/);
    for (const n of nodes) n.shutdown();
  });
});

describe('metrics', () => {
  it('Prometheus text with HELP and TYPE per family and escaped labels', () => {
    const node = testNode('metrics@local');
    const text = formatPrometheus([...nodeMetrics(node), { name: 'x_total', help: 'h', type: 'counter', samples: [{ labels: { peer: 'a"b\\c\nd' }, value: 3 }] }]);
    expect(text).toMatch(/^# HELP troupe_processes .+\n# TYPE troupe_processes gauge\ntroupe_processes \d+\n/);
    expect(text).toContain('x_total{peer="a\\"b\\\\c\\nd"} 3\n');
    for (const line of text.trim().split('\n')) expect(line).toMatch(/^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{.*\})? [-+0-9.eInfNa]+)$/);
    expect(() => formatPrometheus([{ name: 'bad-name', help: '', type: 'gauge', samples: [] }])).toThrow(TypeError);
    node.shutdown();
  });
});
