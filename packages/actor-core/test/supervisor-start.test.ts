import { describe, expect, it } from 'vitest';
import { testNode, probe } from './helpers.js';
import { NoProcError, Supervisor, isExitMessage, type ChildSpec, type ExitMessage, type Pid } from '../src/index.js';
import { crash, exitReasonOf, recordExits, started, trackLabels, worker } from './supervisor-fixtures.js';

describe('Supervisor: start, flags, child specs', () => {
  it('supervisor_SUITE:sup_start_normal — starts, answers, stops with normal', async () => {
    const node = testNode();
    const sup = started(await Supervisor.start(node, {}, []));
    expect(await Supervisor.whichChildren(node, sup)).toEqual([]);
    const done = exitReasonOf(node, sup);
    await Supervisor.stop(node, sup);
    expect(await done).toBe('normal');
    expect(node.isAlive(sup)).toBe(false);
    await expect(Supervisor.whichChildren(node, sup)).rejects.toBeInstanceOf(NoProcError);
  });

  it('supervisor_SUITE:sup_start_ignore_child — ignore gives { ok: undefined } and keeps the spec', async () => {
    const node = testNode();
    const ignoring: ChildSpec = { id: 'child1', start: () => 'ignore' };
    const sup = started(await Supervisor.start(node, {}, [ignoring, worker('child2')]));
    const which = await Supervisor.whichChildren(node, sup);
    expect(which.map((c) => [c.id, c.pid === undefined])).toEqual([
      ['child2', false],
      ['child1', true],
    ]);
    expect(await Supervisor.countChildren(node, sup)).toEqual({ specs: 2, active: 1, supervisors: 0, workers: 2 });
    // startChild with an ignoring start: same, { ok: undefined } and the spec stays
    expect(await Supervisor.startChild(node, sup, { id: 'child3', start: () => 'ignore' })).toEqual({ ok: undefined });
    expect(await Supervisor.countChildren(node, sup)).toEqual({ specs: 3, active: 1, supervisors: 0, workers: 3 });
  });

  it('supervisor_SUITE:sup_start_ignore_temporary_child — a temporary child that returns ignore leaves no spec', async () => {
    const node = testNode();
    const sup = started(await Supervisor.start(node, {}, [{ id: 't', start: () => 'ignore', restart: 'temporary' }, worker('w')]));
    expect((await Supervisor.whichChildren(node, sup)).map((c) => c.id)).toEqual(['w']);
    expect(await Supervisor.countChildren(node, sup)).toEqual({ specs: 1, active: 1, supervisors: 0, workers: 1 });
  });

  it('supervisor_SUITE:sup_start_ignore_temporary_child_start_child — startChild of an ignoring temporary child keeps nothing', async () => {
    const node = testNode();
    const sup = started(await Supervisor.start(node, {}, []));
    expect(await Supervisor.startChild(node, sup, { id: 't', start: () => 'ignore', restart: 'temporary' })).toEqual({ ok: undefined });
    expect(await Supervisor.whichChildren(node, sup)).toEqual([]);
    expect(await Supervisor.getChildSpec(node, sup, 't')).toEqual({ error: 'not_found' });
  });

  it('supervisor_SUITE:sup_start_child_returns_error — the error propagates and nothing is stored', async () => {
    const node = testNode();
    const sup = started(await Supervisor.start(node, {}, []));
    expect(await Supervisor.startChild(node, sup, { id: 'c', start: () => ({ error: 'child_error' }) })).toEqual({ error: 'child_error' });
    const thrown = await Supervisor.startChild(node, sup, {
      id: 'c',
      start: () => {
        throw new Error('bad start');
      },
    });
    expect(thrown).toMatchObject({ error: { error: { message: 'bad start' } } });
    expect(await Supervisor.startChild(node, sup, { id: 'c', start: (() => 42) as unknown as ChildSpec['start'] })).toEqual({
      error: 42, // OTP 25: the value itself
    });
    expect(await Supervisor.whichChildren(node, sup)).toEqual([]);
  });

  it('supervisor_SUITE:sup_start_restart_child_returns_error — restartChild propagates the error, the child stays stopped', async () => {
    const node = testNode();
    let fail = false;
    const spec: ChildSpec = { id: 'c', start: (sup) => (fail ? { error: 'child_error' } : { ok: sup.spawnLink(async (ctx) => void (await ctx.receive())) }) };
    const sup = started(await Supervisor.start(node, {}, [spec]));
    expect(await Supervisor.terminateChild(node, sup, 'c')).toBe('ok');
    fail = true;
    expect(await Supervisor.restartChild(node, sup, 'c')).toEqual({ error: 'child_error' });
    expect(await Supervisor.whichChildren(node, sup)).toEqual([{ id: 'c', pid: undefined, type: 'worker' }]);
  });

  it('supervisor_SUITE:sup_start_fail — a failing child stops the started ones in reverse and start returns failed_to_start_child', async () => {
    const node = testNode();
    const exits = recordExits(node);
    const label = trackLabels(node);
    const spawned: string[] = [];
    node.events.on('spawn', (e) => {
      if (e.behaviour !== null) spawned.push(e.behaviour);
    });
    const r = await Supervisor.start(node, {}, [worker('a'), worker('b'), { id: 'c', start: () => ({ error: 'nope' }) }, worker('d')]);
    expect(r).toEqual({ error: { shutdown: { failed_to_start_child: 'c', reason: 'nope' } } });
    expect(spawned).toEqual(['supervisor', 'a', 'b']);
    // b, then a, then the supervisor itself with the same reason
    expect(exits.map((e) => [label(e.pid), e.reason])).toEqual([
      ['b', 'shutdown'],
      ['a', 'shutdown'],
      ['supervisor', { shutdown: { failed_to_start_child: 'c', reason: 'nope' } }],
    ]);
  });

  it('supervisor_SUITE:sup_start_fail — a throwing start is a failed start, with the thrown error as reason', async () => {
    const node = testNode();
    const r = await Supervisor.start(node, {}, [
      {
        id: 'boom',
        start: async () => {
          throw new Error('exploded');
        },
      },
    ]);
    expect(r).toMatchObject({ error: { shutdown: { failed_to_start_child: 'boom', reason: { error: { message: 'exploded' } } } } });
  });

  it('supervisor_SUITE:sup_start_fail — startLink from a trapping parent: the parent gets the EXIT with the same reason', async () => {
    const node = testNode();
    const p = await probe(node, { trapExit: true });
    const r = await Supervisor.startLink(p.ctx, {}, [{ id: 'x', start: () => ({ error: 'no' }) }]);
    expect(r).toEqual({ error: { shutdown: { failed_to_start_child: 'x', reason: 'no' } } });
    const m = await p.next<ExitMessage>(isExitMessage);
    expect(m.reason).toEqual({ shutdown: { failed_to_start_child: 'x', reason: 'no' } });
  });

  it('supervisor_SUITE:sup_start_map — child spec defaults (OTP #61)', async () => {
    const node = testNode();
    const sup = started(
      await Supervisor.start(node, {}, [worker('w'), { id: 's', type: 'supervisor', start: (ctx) => Supervisor.startLink(ctx, {}, []) }]),
    );
    const w = await Supervisor.getChildSpec(node, sup, 'w');
    expect(w).toMatchObject({ id: 'w', restart: 'permanent', shutdown: 5000, type: 'worker', significant: false });
    const s = await Supervisor.getChildSpec(node, sup, 's');
    expect(s).toMatchObject({ id: 's', restart: 'permanent', shutdown: 'infinity', type: 'supervisor', significant: false });
    expect(await Supervisor.getChildSpec(node, sup, 'nope')).toEqual({ error: 'not_found' });
    expect(await Supervisor.countChildren(node, sup)).toEqual({ specs: 2, active: 2, supervisors: 1, workers: 1 });
  });

  it('supervisor_SUITE:sup_flags — invalid flags give { supervisor_data }, unknown flags are ignored', async () => {
    const node = testNode();
    const bad = async (flags: object, problem: string): Promise<void> => {
      const r = await Supervisor.start(node, flags as never, []);
      expect(r).toMatchObject({ error: { supervisor_data: { problem } } });
      expect((r as { error: { supervisor_data: { message: string } } }).error.supervisor_data.message).toMatch(/.+/);
    };
    await bad({ strategy: 'simple_one_for_one_x' }, 'invalid_strategy');
    await bad({ intensity: -1 }, 'invalid_intensity');
    await bad({ intensity: 1.5 }, 'invalid_intensity');
    await bad({ intensity: Infinity }, 'invalid_intensity');
    await bad({ period: 0 }, 'invalid_period');
    await bad({ period: Infinity }, 'invalid_period');
    await bad({ autoShutdown: 'sometimes' }, 'invalid_auto_shutdown');
    expect(node.processCount).toBe(0);
    const ok = await Supervisor.start(node, { strategy: 'one_for_all', foo: 'bar' } as never, []);
    expect(ok).toHaveProperty('ok');
  });

  it('supervisor_SUITE:child_specs — every validation error, at start and at startChild', async () => {
    const node = testNode();
    const start: ChildSpec['start'] = (sup) => ({ ok: sup.spawnLink(async (c) => void (await c.receive())) });
    const cases: [unknown, string][] = [
      [{ start }, 'missing_id'],
      [{ id: 7, start }, 'invalid_id'],
      [{ id: 'x' }, 'missing_start'],
      [{ id: 'x', start: 'mfa' }, 'invalid_start'],
      [{ id: 'x', start, restart: 'sometimes' }, 'invalid_restart_type'],
      [{ id: 'x', start, shutdown: -1 }, 'invalid_shutdown'],
      [{ id: 'x', start, shutdown: 'soon' }, 'invalid_shutdown'],
      [{ id: 'x', start, type: 'manager' }, 'invalid_child_type'],
      [{ id: 'x', start, significant: 'yes' }, 'invalid_significant'],
      [42, 'invalid_child_spec'],
    ];
    const sup = started(await Supervisor.start(node, {}, []));
    for (const [spec, problem] of cases) {
      expect(await Supervisor.start(node, {}, [spec as ChildSpec])).toMatchObject({ error: { start_spec: { problem } } });
      expect(await Supervisor.startChild(node, sup, spec as ChildSpec)).toMatchObject({ error: { start_spec: { problem } } });
    }
    expect(await Supervisor.start(node, {}, [worker('a'), worker('a')])).toMatchObject({
      error: { start_spec: { problem: 'duplicate_child_name', value: 'a' } },
    });
    // Unknown keys are accepted.
    expect(await Supervisor.startChild(node, sup, { ...worker('ok'), modules: ['m'] } as ChildSpec)).toHaveProperty('ok');
  });

  it('supervisor_SUITE:child_specs_map — significant + permanent and significant + autoShutdown never are bad combinations', async () => {
    const node = testNode();
    expect(await Supervisor.start(node, { autoShutdown: 'any_significant' }, [worker('a', { significant: true })])).toMatchObject({
      error: { start_spec: { problem: 'bad_combination' } },
    });
    expect(await Supervisor.start(node, {}, [worker('a', { significant: true, restart: 'transient' })])).toMatchObject({
      error: { start_spec: { problem: 'bad_combination' } },
    });
    const sup = started(await Supervisor.start(node, {}, []));
    expect(await Supervisor.startChild(node, sup, worker('a', { significant: true, restart: 'temporary' }))).toMatchObject({
      error: { start_spec: { problem: 'bad_combination' } },
    });
    for (const auto of ['any_significant', 'all_significant'] as const) {
      for (const restart of ['transient', 'temporary'] as const) {
        expect(await Supervisor.start(node, { autoShutdown: auto }, [worker('a', { significant: true, restart })])).toHaveProperty('ok');
      }
    }
  });

  it('supervisor_SUITE:sup_start (name) — a registered name; a taken name gives already_started', async () => {
    const node = testNode();
    const sup = started(await Supervisor.start(node, {}, [worker('a')], { name: 'my_sup' }));
    expect(node.whereis('my_sup')).toEqual(sup);
    expect((await Supervisor.whichChildren(node, 'my_sup')).map((c) => c.id)).toEqual(['a']);
    expect(await Supervisor.start(node, {}, [], { name: 'my_sup' })).toEqual({ error: { already_started: sup } });
  });

  it('supervisor_SUITE:sup_stop_infinity — shutdown infinity waits, the child gets shutdown', async () => {
    const node = testNode();
    const p = await probe(node, { trapExit: true });
    const sup = started(await Supervisor.startLink(p.ctx, {}, [worker('slow', { shutdown: 'infinity' }, { trap: true })]));
    const [child] = await Supervisor.whichChildren(node, sup);
    const childDone = exitReasonOf(node, child!.pid as never);
    const supDone = exitReasonOf(node, sup);
    p.ctx.exit(sup, 'shutdown');
    expect(await childDone).toBe('shutdown');
    expect(await supDone).toBe('shutdown');
  });

  it('supervisor_SUITE:sup_stop_timeout — a child ignoring shutdown is killed after its timeout; others get shutdown', async () => {
    const node = testNode();
    const p = await probe(node, { trapExit: true });
    const sup = started(
      await Supervisor.startLink(p.ctx, {}, [worker('polite', { shutdown: 100 }, { trap: true }), worker('stubborn', { shutdown: 100 }, { trap: true, onShutdown: 'hang' })]),
    );
    const kids = await Supervisor.whichChildren(node, sup);
    const reasons = kids.map((k) => exitReasonOf(node, k.pid as never));
    const supDone = exitReasonOf(node, sup);
    p.ctx.exit(sup, 'shutdown');
    expect(await Promise.all(reasons)).toEqual(['killed', 'shutdown']); // newest first: stubborn, polite
    expect(await supDone).toBe('shutdown');
  });

  it('supervisor_SUITE:sup_stop_brutal_kill — brutal_kill gives killed, even to a trapping child', async () => {
    const node = testNode();
    const sup = started(await Supervisor.start(node, {}, [worker('b', { shutdown: 'brutal_kill' }, { trap: true })]));
    const [child] = await Supervisor.whichChildren(node, sup);
    const done = exitReasonOf(node, child!.pid as never);
    await Supervisor.stop(node, sup);
    expect(await done).toBe('killed');
  });

  it('supervisor_SUITE:sup_stop_race — children exiting with their own reasons keep them; the supervisor exits shutdown', async () => {
    const node = testNode();
    const p = await probe(node, { trapExit: true });
    const own = ['normal', { shutdown: 'x' }, 'other'];
    const sup = started(
      await Supervisor.startLink(
        p.ctx,
        {},
        own.map((r, i) => worker(`c${i}`, { shutdown: 1000 }, { trap: true, onShutdown: r })),
      ),
    );
    const kids = (await Supervisor.whichChildren(node, sup)).reverse();
    const reasons = kids.map((k) => exitReasonOf(node, k.pid as never));
    const supDone = exitReasonOf(node, sup);
    p.ctx.exit(sup, 'shutdown');
    expect(await Promise.all(reasons)).toEqual(own);
    expect(await supDone).toBe('shutdown');
    const m = await p.next<ExitMessage>((x) => isExitMessage(x) && x.from.equals(sup));
    expect(m.reason).toBe('shutdown');
  });

  it('supervisor_SUITE:order_of_children — started in list order, terminated in reverse (partial restart and full shutdown)', async () => {
    const node = testNode();
    const label = trackLabels(node);
    const spawned: string[] = [];
    node.events.on('spawn', (e) => {
      if (e.behaviour?.startsWith('ch')) spawned.push(e.behaviour);
    });
    const ids = ['ch1', 'ch2', 'ch3', 'ch4', 'ch5'];
    const sup = started(await Supervisor.start(node, { strategy: 'rest_for_one' }, ids.map((id) => worker(id))));
    expect(spawned).toEqual(ids);
    const byId = new Map((await Supervisor.whichChildren(node, sup)).map((c) => [c.id, c.pid as Pid]));
    const exits = recordExits(node);
    spawned.length = 0;
    await crash(node, byId.get('ch3')!);
    expect(await Supervisor.countChildren(node, sup)).toMatchObject({ active: 5 });
    expect(exits.map((e) => label(e.pid))).toEqual(['ch3', 'ch5', 'ch4']);
    expect(spawned).toEqual(['ch3', 'ch4', 'ch5']);
    exits.length = 0;
    await Supervisor.stop(node, sup);
    expect(exits.map((e) => label(e.pid))).toEqual(['ch5', 'ch4', 'ch3', 'ch2', 'ch1', 'supervisor']);
  });
});
