import { describe, expect, it, vi } from 'vitest';
import { testNode, probe } from './helpers.js';
import { Supervisor, isExitMessage, type ChildInfo, type ExitMessage, type ExitReason, type Node, type Pid, type RestartType } from '../src/index.js';
import { Switch, crash, exitReasonOf, recordExits, started, trackLabels, worker } from './supervisor-fixtures.js';

async function children(node: Node, sup: Pid): Promise<Map<string, ChildInfo['pid']>> {
  return new Map((await Supervisor.whichChildren(node, sup)).map((c) => [c.id, c.pid]));
}

async function pidOf(node: Node, sup: Pid, id: string): Promise<Pid> {
  const p = (await children(node, sup)).get(id);
  if (!(typeof p === 'object')) throw new Error(`${id} is not running: ${String(p)}`);
  return p;
}

describe('Supervisor: restart types', () => {
  const matrix: [string, RestartType, ExitReason, 'restarted' | 'kept' | 'removed'][] = [
    ['permanent_normal', 'permanent', 'normal', 'restarted'],
    ['transient_normal', 'transient', 'normal', 'kept'],
    ['temporary_normal', 'temporary', 'normal', 'removed'],
    ['permanent_shutdown', 'permanent', 'shutdown', 'restarted'],
    ['transient_shutdown', 'transient', 'shutdown', 'kept'],
    ['transient_shutdown ({shutdown, Info})', 'transient', { shutdown: 'info' }, 'kept'],
    ['temporary_shutdown', 'temporary', { shutdown: 'info' }, 'removed'],
    ['permanent_abnormal', 'permanent', 'crash', 'restarted'],
    ['transient_abnormal', 'transient', 'crash', 'restarted'],
    ['temporary_abnormal', 'temporary', 'crash', 'removed'],
  ];
  for (const [name, restart, reason, outcome] of matrix) {
    it(`supervisor_SUITE:${name} — a ${restart} child exiting ${JSON.stringify(reason)} is ${outcome}`, async () => {
      const node = testNode();
      const sup = started(await Supervisor.start(node, {}, [worker('c', { restart })]));
      const before = await pidOf(node, sup, 'c');
      await crash(node, before, reason);
      const now = await children(node, sup);
      if (outcome === 'restarted') {
        const after = now.get('c');
        expect(typeof after).toBe('object');
        expect(typeof after === 'object' && after.equals(before)).toBe(false);
      } else if (outcome === 'kept') {
        expect(now.has('c')).toBe(true);
        expect(now.get('c')).toBeUndefined();
      } else {
        expect(now.has('c')).toBe(false);
      }
      expect(node.isAlive(sup)).toBe(true);
    });
  }
});

describe('Supervisor: strategies and intensity', () => {
  it('supervisor_SUITE:temporary_bystander — temporary bystanders are stopped, not restarted, and do not count', async () => {
    for (const strategy of ['one_for_all', 'rest_for_one'] as const) {
      const node = testNode();
      const sup = started(await Supervisor.start(node, { strategy, intensity: 1, period: 100 }, [worker('p'), worker('t', { restart: 'temporary' })]));
      const t = await pidOf(node, sup, 't');
      const tDone = exitReasonOf(node, t);
      await crash(node, await pidOf(node, sup, 'p'));
      expect(await tDone).toBe('shutdown');
      expect([...(await children(node, sup)).keys()]).toEqual(['p']);
      expect(node.isAlive(sup)).toBe(true);
    }
  });

  it('supervisor_SUITE:multiple_restarts — the window slides: crashes further apart than the period never add up', async () => {
    // The supervisor reads performance.now(): only that clock is faked, and
    // moved past the 50 ms window between crashes (no real time has to pass).
    vi.useFakeTimers({ toFake: ['performance'] });
    try {
      const node = testNode();
      const sup = started(await Supervisor.start(node, { intensity: 1, period: 0.05 }, [worker('c')]));
      for (let i = 0; i < 3; i++) {
        const before = await pidOf(node, sup, 'c');
        await crash(node, before);
        expect((await pidOf(node, sup, 'c')).equals(before)).toBe(false); // restarted
        vi.advanceTimersByTime(51);
      }
      expect(node.isAlive(sup)).toBe(true);
      // Two crashes inside one window do add up: intensity 1 is exceeded.
      const supDone = exitReasonOf(node, sup);
      await crash(node, await pidOf(node, sup, 'c'));
      await crash(node, await pidOf(node, sup, 'c'));
      expect(await supDone).toBe('shutdown');
    } finally {
      vi.useRealTimers();
    }
  });

  it('supervisor_SUITE:one_for_one — only the failed child restarts; more than intensity restarts shut the supervisor down', async () => {
    const node = testNode();
    const sup = started(await Supervisor.start(node, { strategy: 'one_for_one', intensity: 2, period: 3600 }, [worker('a'), worker('b')]));
    const b = await pidOf(node, sup, 'b');
    await crash(node, await pidOf(node, sup, 'a'));
    expect(await pidOf(node, sup, 'b')).toEqual(b);
    await crash(node, await pidOf(node, sup, 'a'));
    const supDone = exitReasonOf(node, sup);
    const bDone = exitReasonOf(node, b);
    await crash(node, await pidOf(node, sup, 'a'));
    expect(await bDone).toBe('shutdown');
    expect(await supDone).toBe('shutdown');
  });

  it('supervisor_SUITE:one_for_one (intensity 0) — the first failure shuts the supervisor down', async () => {
    const node = testNode();
    const sup = started(await Supervisor.start(node, { intensity: 0 }, [worker('a')]));
    const supDone = exitReasonOf(node, sup);
    await crash(node, await pidOf(node, sup, 'a'));
    expect(await supDone).toBe('shutdown');
  });

  it('supervisor_SUITE:one_for_one_escalation — a child whose restart keeps failing exhausts intensity and escalates', async () => {
    const node = testNode();
    const sw = new Switch();
    const sup = started(await Supervisor.start(node, { intensity: 4, period: 3600 }, [sw.spec('bad'), worker('good')]));
    const good = await pidOf(node, sup, 'good');
    const goodDone = exitReasonOf(node, good);
    const supDone = exitReasonOf(node, sup);
    sw.mode = 'fail';
    sw.starts = 0;
    await crash(node, await pidOf(node, sup, 'bad'));
    expect(await supDone).toBe('shutdown');
    expect(await goodDone).toBe('shutdown');
    expect(sw.starts).toBe(4); // every attempt counts: 4 allowed, the 5th exceeds
  });

  it('supervisor_SUITE:one_for_all — all children restart with new pids, others stopped newest first, restarted in order', async () => {
    const node = testNode();
    const label = trackLabels(node);
    const sup = started(await Supervisor.start(node, { strategy: 'one_for_all' }, [worker('c1'), worker('c2'), worker('c3')]));
    const before = await children(node, sup);
    const exits = recordExits(node);
    const spawned: string[] = [];
    node.events.on('spawn', (e) => spawned.push(label(e.pid)));
    await crash(node, await pidOf(node, sup, 'c2'));
    const after = await children(node, sup);
    for (const id of ['c1', 'c2', 'c3']) expect((after.get(id) as Pid).equals(before.get(id))).toBe(false);
    expect(exits.map((e) => [label(e.pid), e.reason])).toEqual([
      ['c2', 'crash'],
      ['c3', 'shutdown'],
      ['c1', 'shutdown'],
    ]);
    expect(spawned).toEqual(['c1', 'c2', 'c3']);
  });

  it('supervisor_SUITE:one_for_all_escalation — a failing group restart escalates', async () => {
    const node = testNode();
    const sw = new Switch();
    const sup = started(await Supervisor.start(node, { strategy: 'one_for_all', intensity: 2, period: 3600 }, [worker('a'), sw.spec('b')]));
    const supDone = exitReasonOf(node, sup);
    sw.mode = 'fail';
    await crash(node, await pidOf(node, sup, 'a'));
    expect(await supDone).toBe('shutdown');
  });

  it('supervisor_SUITE:one_for_all_other_child_fails_restart — a partial failure terminates the restarted sibling and retries', async () => {
    const node = testNode();
    const sw = new Switch();
    const sup = started(await Supervisor.start(node, { strategy: 'one_for_all', intensity: 3, period: 3600 }, [worker('child1'), sw.spec('child2')]));
    sw.mode = 'fail';
    await crash(node, await pidOf(node, sup, 'child1'));
    const mid = await children(node, sup);
    expect(mid.get('child2')).toBe('restarting');
    const c1 = mid.get('child1') as Pid;
    expect(typeof c1).toBe('object');
    const c1Done = exitReasonOf(node, c1);
    sw.mode = 'ok';
    expect(await c1Done).toBe('shutdown'); // the retry stops the already restarted sibling
    const end = await children(node, sup);
    expect(typeof end.get('child1')).toBe('object');
    expect(typeof end.get('child2')).toBe('object');
    expect(node.isAlive(sup)).toBe(true);
  });

  it('supervisor_SUITE:rest_for_one — later children restart in order, earlier ones are untouched', async () => {
    const node = testNode();
    const label = trackLabels(node);
    const sup = started(await Supervisor.start(node, { strategy: 'rest_for_one' }, [worker('c1'), worker('c2'), worker('c3')]));
    const before = await children(node, sup);
    const exits = recordExits(node);
    await crash(node, await pidOf(node, sup, 'c2'));
    const after = await children(node, sup);
    expect(after.get('c1')).toEqual(before.get('c1'));
    expect((after.get('c2') as Pid).equals(before.get('c2'))).toBe(false);
    expect((after.get('c3') as Pid).equals(before.get('c3'))).toBe(false);
    expect(exits.map((e) => label(e.pid))).toEqual(['c2', 'c3']);
    // the newer pid of c3 is newer than c2's: restarted in order
    expect((after.get('c3') as Pid).id).toBeGreaterThan((after.get('c2') as Pid).id);
  });

  it('supervisor_SUITE:rest_for_one_escalation — a failing restart of a later child escalates', async () => {
    const node = testNode();
    const sw = new Switch();
    const sup = started(await Supervisor.start(node, { strategy: 'rest_for_one', intensity: 2, period: 3600 }, [worker('a'), sw.spec('b')]));
    const supDone = exitReasonOf(node, sup);
    sw.mode = 'fail';
    await crash(node, await pidOf(node, sup, 'a'));
    expect(await supDone).toBe('shutdown');
  });

  it('supervisor_SUITE:rest_for_one_other_child_fails_restart — retrying a later child does not restart earlier ones', async () => {
    const node = testNode();
    const sw = new Switch();
    const sup = started(await Supervisor.start(node, { strategy: 'rest_for_one', intensity: 3, period: 3600 }, [worker('child1'), sw.spec('child2')]));
    sw.mode = 'fail';
    await crash(node, await pidOf(node, sup, 'child1'));
    const mid = await children(node, sup);
    expect(mid.get('child2')).toBe('restarting');
    const c1 = mid.get('child1') as Pid;
    sw.mode = 'ok';
    await Supervisor.countChildren(node, sup); // the retry was queued before this call
    const end = await children(node, sup);
    expect(end.get('child1')).toEqual(c1);
    expect(typeof end.get('child2')).toBe('object');
  });

  it('supervisor_SUITE:child_unlink — terminating a child that unlinked itself does not hang', async () => {
    const node = testNode();
    const sup = started(
      await Supervisor.start(node, {}, [
        {
          id: 'unlinker',
          shutdown: 100,
          start: (s) => {
            const supPid = s.self;
            return {
              ok: s.spawnLink(async (ctx) => {
                ctx.unlink(supPid);
                ctx.trapExit(true);
                for (;;) await ctx.receive(); // ignores everything, including shutdown
              }),
            };
          },
        },
      ]),
    );
    const pid = await pidOf(node, sup, 'unlinker');
    const done = exitReasonOf(node, pid);
    expect(await Supervisor.terminateChild(node, sup, 'unlinker')).toBe('ok');
    expect(await done).toBe('killed');
  });

  it('supervisor_SUITE:tree — a subtree restart restarts static children, not dynamically added ones; escalation goes up', async () => {
    const node = testNode();
    const subSpec = (id: string, kids: string[], intensity = 1) => ({
      id,
      type: 'supervisor' as const,
      start: (ctx: Parameters<typeof Supervisor.startLink>[0]) => Supervisor.startLink(ctx, { intensity, period: 3600 }, kids.map((k) => worker(k))),
    });
    const top = started(await Supervisor.start(node, { strategy: 'one_for_all', intensity: 10, period: 3600 }, [subSpec('subA', ['a1']), subSpec('subB', ['b1'], 0)]));
    const subA = await pidOf(node, top, 'subA');
    expect(await Supervisor.startChild(node, subA, worker('a_dyn'))).toHaveProperty('ok');
    expect((await Supervisor.whichChildren(node, subA)).map((c) => c.id)).toEqual(['a_dyn', 'a1']);
    // subB (intensity 0) escalates on its child's first crash: it exits shutdown, top restarts the whole tree.
    const subB = await pidOf(node, top, 'subB');
    const subBDone = exitReasonOf(node, subB);
    const subADone = exitReasonOf(node, subA);
    await crash(node, await pidOf(node, subB, 'b1'));
    expect(await subBDone).toBe('shutdown');
    expect(await subADone).toBe('shutdown');
    const newA = await pidOf(node, top, 'subA');
    expect(newA.equals(subA)).toBe(false);
    expect((await Supervisor.whichChildren(node, newA)).map((c) => c.id)).toEqual(['a1']);
    expect(await Supervisor.countChildren(node, top)).toEqual({ specs: 2, active: 2, supervisors: 2, workers: 0 });
  });

  it('supervisor_SUITE:hanging_restart_loop — a child stuck restarting shows restarting; terminate and restart still work', async () => {
    const node = testNode();
    const sw = new Switch();
    sw.failDelayMs = 2;
    const sup = started(await Supervisor.start(node, { intensity: 1_000_000, period: 3600 }, []));
    const spec = sw.spec('child1', { shutdown: 'brutal_kill' });
    await Supervisor.startChild(node, sup, spec);
    sw.mode = 'fail';
    await crash(node, await pidOf(node, sup, 'child1'));
    expect(await Supervisor.startChild(node, sup, spec)).toEqual({ error: 'already_present' });
    expect(await Supervisor.restartChild(node, sup, 'child1')).toEqual({ error: 'restarting' });
    expect(await Supervisor.deleteChild(node, sup, 'child1')).toEqual({ error: 'restarting' });
    expect(await Supervisor.whichChildren(node, sup)).toEqual([{ id: 'child1', pid: 'restarting', type: 'worker' }]);
    // count_restarting_children: a restarting child is a spec, not active
    expect(await Supervisor.countChildren(node, sup)).toEqual({ specs: 1, active: 0, supervisors: 0, workers: 1 });
    expect(await Supervisor.terminateChild(node, sup, 'child1')).toBe('ok');
    expect(await Supervisor.whichChildren(node, sup)).toEqual([{ id: 'child1', pid: undefined, type: 'worker' }]);
    sw.mode = 'ok';
    const r = await Supervisor.restartChild(node, sup, 'child1');
    expect(r).toHaveProperty('ok');
    expect(await Supervisor.deleteChild(node, sup, 'child1')).toEqual({ error: 'running' });
    // and shutting the supervisor down works while a child is restarting
    sw.mode = 'fail';
    await crash(node, await pidOf(node, sup, 'child1'));
    await Supervisor.stop(node, sup);
    expect(node.isAlive(sup)).toBe(false);
  });

  it('supervisor_SUITE:hanging_restart_loop_rest_for_one — restarting under rest_for_one; later children wait undefined', async () => {
    const node = testNode();
    const sw = new Switch();
    sw.failDelayMs = 2;
    const sup = started(await Supervisor.start(node, { strategy: 'rest_for_one', intensity: 1_000_000, period: 3600 }, [worker('first'), sw.spec('child1'), worker('last')]));
    const first = await pidOf(node, sup, 'first');
    sw.mode = 'fail';
    await crash(node, await pidOf(node, sup, 'child1'));
    const mid = await children(node, sup);
    expect(mid.get('child1')).toBe('restarting');
    expect(mid.get('last')).toBeUndefined();
    expect(mid.get('first')).toEqual(first);
    expect(await Supervisor.terminateChild(node, sup, 'child1')).toBe('ok');
    sw.mode = 'ok';
    expect(await Supervisor.restartChild(node, sup, 'child1')).toHaveProperty('ok');
    expect(await Supervisor.restartChild(node, sup, 'last')).toHaveProperty('ok');
    expect(await Supervisor.countChildren(node, sup)).toMatchObject({ specs: 3, active: 3 });
  });

  it('supervisor_SUITE:sup_stop (parent exit) — a parent shutdown stops children newest first, then the supervisor exits shutdown', async () => {
    const node = testNode();
    const label = trackLabels(node);
    const p = await probe(node, { trapExit: true });
    const sup = started(await Supervisor.startLink(p.ctx, {}, [worker('a'), worker('b'), worker('c')]));
    const exits = recordExits(node);
    p.ctx.exit(sup, 'shutdown');
    const m = await p.next<ExitMessage>((x) => isExitMessage(x) && x.from.equals(sup));
    expect(m.reason).toBe('shutdown');
    expect(exits.map((e) => [label(e.pid), e.reason])).toEqual([
      ['c', 'shutdown'],
      ['b', 'shutdown'],
      ['a', 'shutdown'],
      ['supervisor', 'shutdown'],
    ]);
  });

  it('supervisor_SUITE:sup_stop (kill) — a killed supervisor takes its non-trapping children with it', async () => {
    const node = testNode();
    const sup = started(await Supervisor.start(node, {}, [worker('a')]));
    const a = await pidOf(node, sup, 'a');
    const aDone = exitReasonOf(node, a);
    node.exit(sup, 'kill');
    expect(await aDone).toBe('killed');
  });
});
