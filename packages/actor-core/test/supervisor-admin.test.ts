import { describe, expect, it } from 'vitest';
import { testNode } from './helpers.js';
import { NoProcError, Supervisor, type ChildInfo, type ChildSpec, type ExitReason, type Node, type Pid } from '../src/index.js';
import { crash, exitReasonOf, started, worker, workerBody } from './supervisor-fixtures.js';

async function pidOf(node: Node, sup: Pid | string, id: string): Promise<ChildInfo['pid']> {
  return (await Supervisor.whichChildren(node, sup)).find((c) => c.id === id)?.pid;
}

describe('Supervisor: child administration', () => {
  it('supervisor_SUITE:extra_return — { ok, info } passes through startChild and restartChild; not_found and running', async () => {
    const node = testNode();
    const spec: ChildSpec = { id: 'c', start: (sup) => ({ ok: sup.spawnLink(async (ctx) => void (await ctx.receive())), info: 'extra_return' }) };
    const sup = started(await Supervisor.start(node, {}, []));
    const r = await Supervisor.startChild(node, sup, spec);
    expect(r).toMatchObject({ info: 'extra_return' });
    const pid = (r as { ok: Pid }).ok;
    expect(await Supervisor.restartChild(node, sup, 'c')).toEqual({ error: 'running' });
    expect(await Supervisor.terminateChild(node, sup, 'c')).toBe('ok');
    const r2 = await Supervisor.restartChild(node, sup, 'c');
    expect(r2).toMatchObject({ info: 'extra_return' });
    expect(await Supervisor.restartChild(node, sup, 'nope')).toEqual({ error: 'not_found' });
    expect(await Supervisor.terminateChild(node, sup, 'nope')).toEqual({ error: 'not_found' });
    // automatic restart still works for a child started with info
    const cur = (r2 as { ok: Pid }).ok;
    const done = exitReasonOf(node, cur);
    node.exit(cur, 'crash');
    expect(await done).toBe('crash');
    const again = await pidOf(node, sup, 'c');
    expect(typeof again === 'object' && !again.equals(cur) && !again.equals(pid)).toBe(true);
  });

  it('supervisor_SUITE:child_adm — the whole life cycle', async () => {
    const node = testNode();
    const sup = started(await Supervisor.start(node, {}, [worker('child1')], { name: 'sup_test' }));
    const c1 = (await pidOf(node, 'sup_test', 'child1')) as Pid;
    expect(await Supervisor.startChild(node, 'sup_test', worker('child1'))).toEqual({ error: { already_started: c1 } });
    expect(await Supervisor.terminateChild(node, 'sup_test', 'child1')).toBe('ok');
    expect(node.isAlive(c1)).toBe(false);
    expect(await Supervisor.terminateChild(node, 'sup_test', 'child1')).toBe('ok'); // idempotent
    expect(await Supervisor.whichChildren(node, sup)).toEqual([{ id: 'child1', pid: undefined, type: 'worker' }]);
    expect(await Supervisor.startChild(node, 'sup_test', worker('child1'))).toEqual({ error: 'already_present' });
    const r = await Supervisor.restartChild(node, 'sup_test', 'child1');
    expect(r).toHaveProperty('ok');
    expect(await Supervisor.restartChild(node, 'sup_test', 'child1')).toEqual({ error: 'running' });
    expect(await Supervisor.deleteChild(node, 'sup_test', 'child1')).toEqual({ error: 'running' });
    expect(await Supervisor.terminateChild(node, 'sup_test', 'child1')).toBe('ok');
    expect(await Supervisor.deleteChild(node, 'sup_test', 'child1')).toBe('ok');
    expect(await Supervisor.deleteChild(node, 'sup_test', 'child1')).toEqual({ error: 'not_found' });
    expect(await Supervisor.restartChild(node, 'sup_test', 'child1')).toEqual({ error: 'not_found' });
    expect(await Supervisor.whichChildren(node, sup)).toEqual([]);
    // a temporary child's spec goes with terminateChild
    expect(await Supervisor.startChild(node, sup, worker('t', { restart: 'temporary' }))).toHaveProperty('ok');
    expect(await Supervisor.terminateChild(node, sup, 't')).toBe('ok');
    expect(await Supervisor.getChildSpec(node, sup, 't')).toEqual({ error: 'not_found' });
    // noproc on a supervisor that does not exist
    await Supervisor.stop(node, sup);
    await expect(Supervisor.whichChildren(node, 'sup_test')).rejects.toBeInstanceOf(NoProcError);
    await expect(Supervisor.countChildren(node, sup)).rejects.toBeInstanceOf(NoProcError);
    await expect(Supervisor.startChild(node, sup, worker('x'))).rejects.toBeInstanceOf(NoProcError);
    await expect(Supervisor.terminateChild(node, sup, 'x')).rejects.toBeInstanceOf(NoProcError);
    await expect(Supervisor.restartChild(node, sup, 'x')).rejects.toBeInstanceOf(NoProcError);
    await expect(Supervisor.deleteChild(node, sup, 'x')).rejects.toBeInstanceOf(NoProcError);
    await expect(Supervisor.getChildSpec(node, sup, 'x')).rejects.toBeInstanceOf(NoProcError);
    await expect(Supervisor.stop(node, sup)).rejects.toBeInstanceOf(NoProcError);
  });

  it('supervisor_SUITE:child_adm (from a process) — calls made from a process context work the same', async () => {
    const node = testNode();
    const sup = started(await Supervisor.start(node, {}, [worker('a')]));
    const out: unknown[] = [];
    const done = new Promise<void>((resolve) => {
      node.spawn(async (ctx) => {
        out.push(await Supervisor.countChildren(ctx, sup));
        out.push(await Supervisor.terminateChild(ctx, sup, 'a'));
        resolve();
      });
    });
    await done;
    expect(out).toEqual([{ specs: 1, active: 1, supervisors: 0, workers: 1 }, 'ok']);
  });

  it('supervisor_SUITE:which_children — newest first, with pids, undefined and types', async () => {
    const node = testNode();
    const sup = started(
      await Supervisor.start(node, {}, [
        worker('temporary', { restart: 'temporary' }),
        worker('transient', { restart: 'transient' }),
        { id: 'supervisor', type: 'supervisor', start: (ctx) => Supervisor.startLink(ctx, {}, []) },
      ]),
    );
    await Supervisor.terminateChild(node, sup, 'transient');
    const which = await Supervisor.whichChildren(node, sup);
    expect(which.map((c) => [c.id, c.pid === undefined ? 'undefined' : 'pid', c.type])).toEqual([
      ['supervisor', 'pid', 'supervisor'],
      ['transient', 'undefined', 'worker'],
      ['temporary', 'pid', 'worker'],
    ]);
    await Supervisor.startChild(node, sup, worker('newest'));
    expect((await Supervisor.whichChildren(node, sup))[0]!.id).toBe('newest');
  });

  it('supervisor_SUITE:count_children — 1000 children', async () => {
    const node = testNode();
    const sup = started(await Supervisor.start(node, { intensity: 10_000 }, []));
    for (let i = 0; i < 1000; i++) await Supervisor.startChild(node, sup, worker(`c${i}`));
    expect(await Supervisor.countChildren(node, sup)).toEqual({ specs: 1000, active: 1000, supervisors: 0, workers: 1000 });
    for (let i = 0; i < 1000; i += 2) await Supervisor.terminateChild(node, sup, `c${i}`);
    expect(await Supervisor.countChildren(node, sup)).toEqual({ specs: 1000, active: 500, supervisors: 0, workers: 1000 });
    const t0 = node.processCount;
    await Supervisor.stop(node, sup);
    expect(node.processCount).toBe(t0 - 501);
  });

  it('supervisor_SUITE:count_children_supervisor — supervisor-type children are counted apart', async () => {
    const node = testNode();
    const sub = (id: string): ChildSpec => ({ id, type: 'supervisor', start: (ctx) => Supervisor.startLink(ctx, {}, [worker('w')]) });
    const sup = started(await Supervisor.start(node, {}, [sub('s1'), sub('s2'), worker('w1')]));
    expect(await Supervisor.countChildren(node, sup)).toEqual({ specs: 3, active: 3, supervisors: 2, workers: 1 });
  });

  it('supervisor_SUITE:already_started_outside_supervisor — a name held by a non-child gives { already_started }, nothing stored', async () => {
    const node = testNode();
    const outsider = node.spawn(async (ctx) => void (await ctx.receive()), { name: 'foo' });
    const named: ChildSpec = {
      id: 'foo',
      start: (sup) => {
        const holder = sup.whereis('foo');
        if (holder !== undefined) return { error: { already_started: holder } };
        return { ok: sup.spawnLink(workerBody(), { name: 'foo' }) };
      },
    };
    const sup = started(await Supervisor.start(node, {}, []));
    expect(await Supervisor.startChild(node, sup, named)).toEqual({ error: { already_started: outsider } });
    expect(await Supervisor.whichChildren(node, sup)).toEqual([]);
    // The name frees with its holder; now the child can take it.
    const gone = exitReasonOf(node, outsider);
    node.exit(outsider, 'kill');
    await gone;
    const r = await Supervisor.startChild(node, sup, named);
    expect(node.whereis('foo')).toEqual((r as { ok: Pid }).ok);
    // a restarted child re-registers the name (the name died with the old process first)
    await crash(node, (r as { ok: Pid }).ok);
    const restarted = await pidOf(node, sup, 'foo');
    expect(typeof restarted).toBe('object');
    expect(node.whereis('foo')).toEqual(restarted);
  });
});

describe('Supervisor: significant children and autoShutdown', () => {
  const run = async (
    auto: 'never' | 'any_significant' | 'all_significant',
    specs: ChildSpec[],
    exitId: string,
    reason: ExitReason,
  ): Promise<{ node: Node; sup: Pid; supAlive: boolean }> => {
    const node = testNode();
    const sup = started(await Supervisor.start(node, { autoShutdown: auto, intensity: 5 }, specs));
    const supDone = exitReasonOf(node, sup).catch(() => 'alive');
    const pid = (await pidOf(node, sup, exitId)) as Pid;
    await crash(node, pid, reason);
    if (node.isAlive(sup)) await Supervisor.countChildren(node, sup).catch(() => undefined); // let it handle the EXIT
    const supAlive = node.isAlive(sup);
    if (!supAlive) expect(await supDone).toBe('shutdown');
    return { node, sup, supAlive };
  };
  const sig = (id: string, restart: 'transient' | 'temporary'): ChildSpec => worker(id, { restart, significant: true });

  it('supervisor_SUITE:significant_temporary — any exit of a temporary significant child triggers any_significant', async () => {
    for (const reason of ['normal', 'shutdown', 'crash', 'killed']) {
      expect((await run('any_significant', [sig('a', 'temporary'), worker('w')], 'a', reason)).supAlive).toBe(false);
    }
  });

  it('supervisor_SUITE:significant_temporary — all_significant waits for the last significant child', async () => {
    const { node, sup, supAlive } = await run('all_significant', [sig('a', 'temporary'), sig('b', 'temporary')], 'a', 'crash');
    expect(supAlive).toBe(true);
    const done = exitReasonOf(node, sup);
    await crash(node, (await pidOf(node, sup, 'b')) as Pid, 'normal');
    expect(await done).toBe('shutdown');
  });

  it('supervisor_SUITE:significant_transient — normal-ish exits trigger; an abnormal exit is just restarted', async () => {
    for (const reason of ['normal', 'shutdown', { shutdown: 'x' }]) {
      expect((await run('any_significant', [sig('a', 'transient'), worker('w')], 'a', reason)).supAlive).toBe(false);
    }
    const r = await run('any_significant', [sig('a', 'transient')], 'a', 'crash');
    expect(r.supAlive).toBe(true);
    expect(typeof (await pidOf(r.node, r.sup, 'a'))).toBe('object');
  });

  it('supervisor_SUITE:nonsignificant_temporary / nonsignificant_transient — never trigger auto-shutdown', async () => {
    for (const auto of ['never', 'any_significant', 'all_significant'] as const) {
      expect((await run(auto, [worker('t', { restart: 'temporary' })], 't', 'normal')).supAlive).toBe(true);
      expect((await run(auto, [worker('t', { restart: 'transient' })], 't', 'normal')).supAlive).toBe(true);
    }
  });

  it('supervisor_SUITE:significant_bystander — terminateChild and strategy bystanders never trigger it', async () => {
    const node = testNode();
    const sup = started(await Supervisor.start(node, { strategy: 'one_for_all', autoShutdown: 'any_significant' }, [sig('s', 'temporary'), worker('p')]));
    expect(await Supervisor.terminateChild(node, sup, 's')).toBe('ok');
    expect(node.isAlive(sup)).toBe(true);
    await Supervisor.startChild(node, sup, sig('s2', 'transient'));
    await crash(node, (await pidOf(node, sup, 'p')) as Pid);
    expect(await Supervisor.countChildren(node, sup)).toMatchObject({ active: 2 });
    expect(node.isAlive(sup)).toBe(true);
  });

  it('supervisor_SUITE:significant_escalation — auto-shutdown escalates through a significant child supervisor', async () => {
    const node = testNode();
    const inner: ChildSpec = {
      id: 'inner',
      type: 'supervisor',
      restart: 'transient',
      significant: true,
      start: (ctx) => Supervisor.startLink(ctx, { autoShutdown: 'any_significant' }, [sig('leaf', 'temporary')]),
    };
    const top = started(await Supervisor.start(node, { autoShutdown: 'any_significant' }, [inner, worker('other')]));
    const innerPid = (await pidOf(node, top, 'inner')) as Pid;
    const innerDone = exitReasonOf(node, innerPid);
    const topDone = exitReasonOf(node, top);
    await crash(node, (await pidOf(node, innerPid, 'leaf')) as Pid, 'normal');
    expect(await innerDone).toBe('shutdown');
    expect(await topDone).toBe('shutdown');
  });
});
