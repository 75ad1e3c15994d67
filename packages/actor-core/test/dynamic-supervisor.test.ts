import { describe, expect, it } from 'vitest';
import { testNode, probe } from './helpers.js';
import { DynamicSupervisor, NoProcError, isExitMessage, type DynamicChildSpec, type ExitMessage, type Node, type Pid } from '../src/index.js';
import { crash, exitReasonOf, recordExits, started, workerBody, type WorkerOpts } from './supervisor-fixtures.js';

function dyn(extra: Partial<DynamicChildSpec> = {}, opts: WorkerOpts = {}): DynamicChildSpec {
  return { start: (sup) => ({ ok: sup.spawnLink(workerBody(opts), { label: opts.label ?? 'dyn' }) }), ...extra };
}

async function startKid(node: Node, sup: Pid, spec: DynamicChildSpec): Promise<Pid> {
  const r = await DynamicSupervisor.startChild(node, sup, spec);
  if (!('ok' in (r as object)) || (r as { ok?: Pid }).ok === undefined) throw new Error(`startChild failed: ${JSON.stringify(r)}`);
  return (r as { ok: Pid }).ok;
}

describe('DynamicSupervisor', () => {
  it('supervisor_SUITE:simple_one_for_one — children restart by type; a restarted child gets a new pid', async () => {
    const node = testNode();
    const sup = started(await DynamicSupervisor.start(node));
    const perm = await startKid(node, sup, dyn());
    const trans = await startKid(node, sup, dyn({ restart: 'transient' }));
    const temp = await startKid(node, sup, dyn({ restart: 'temporary' }));
    await crash(node, perm);
    await crash(node, trans, 'normal');
    await crash(node, temp);
    const which = await DynamicSupervisor.whichChildren(node, sup);
    expect(which).toHaveLength(1);
    expect(which[0]!.id).toBeUndefined();
    expect(typeof which[0]!.pid === 'object' && !which[0]!.pid.equals(perm)).toBe(true);
    expect(await DynamicSupervisor.countChildren(node, sup)).toEqual({ specs: 1, active: 1, supervisors: 0, workers: 1 });
  });

  it('supervisor_SUITE:simple_one_for_one_extra — { ok, info } passes through; extraArguments come after the supervisor ctx', async () => {
    const node = testNode();
    const sup = started(await DynamicSupervisor.start(node, { extraArguments: ['x', 42] }));
    const seen: unknown[][] = [];
    const r = await DynamicSupervisor.startChild(node, sup, {
      start: (s, ...extra) => {
        seen.push(extra);
        return { ok: s.spawnLink(workerBody()), info: 'extra' };
      },
    });
    expect(r).toMatchObject({ info: 'extra' });
    await crash(node, (r as { ok: Pid }).ok);
    await DynamicSupervisor.countChildren(node, sup);
    expect(seen).toEqual([
      ['x', 42],
      ['x', 42],
    ]);
  });

  it('supervisor_SUITE:simple_one_for_one_escalation — too many restarts shut the supervisor down (Elixir default 3 in 5 s)', async () => {
    const node = testNode();
    const sup = started(await DynamicSupervisor.start(node));
    const other = await startKid(node, sup, dyn());
    let kid = await startKid(node, sup, dyn());
    const supDone = exitReasonOf(node, sup);
    const otherDone = exitReasonOf(node, other);
    for (let i = 0; i < 3; i++) {
      await crash(node, kid);
      const which = await DynamicSupervisor.whichChildren(node, sup);
      kid = which.map((c) => c.pid as Pid).find((p) => !p.equals(other))!;
    }
    await crash(node, kid);
    expect(await otherDone).toBe('shutdown');
    expect(await supDone).toBe('shutdown');
  });

  it('supervisor_SUITE:simple_one_for_one_restart_ignore — a restart returning ignore removes the child', async () => {
    const node = testNode();
    const sup = started(await DynamicSupervisor.start(node));
    let ignore = false;
    const kid = await startKid(node, sup, { start: (s) => (ignore ? 'ignore' : { ok: s.spawnLink(workerBody()) }) });
    ignore = true;
    await crash(node, kid);
    expect(await DynamicSupervisor.whichChildren(node, sup)).toEqual([]);
    expect(await DynamicSupervisor.startChild(node, sup, { start: () => 'ignore' })).toBe('ignore') // Elixir: :ignore;
    expect(await DynamicSupervisor.countChildren(node, sup)).toMatchObject({ specs: 0 });
  });

  it('DynamicSupervisor:max_children — startChild returns { error: max_children } when full', async () => {
    const node = testNode();
    const sup = started(await DynamicSupervisor.start(node, { maxChildren: 2 }));
    const a = await startKid(node, sup, dyn());
    await startKid(node, sup, dyn());
    expect(await DynamicSupervisor.startChild(node, sup, dyn())).toEqual({ error: 'max_children' });
    expect(await DynamicSupervisor.terminateChild(node, sup, a)).toBe('ok');
    expect(await DynamicSupervisor.startChild(node, sup, dyn())).toHaveProperty('ok');
  });

  it('supervisor_SUITE:child_adm_simple — terminate by pid; a pid that is not a child gives not_found', async () => {
    const node = testNode();
    const sup = started(await DynamicSupervisor.start(node, {}, { name: 'dsup' }));
    const kid = await startKid(node, 'dsup' as never, dyn());
    const stranger = node.spawn(async (ctx) => void (await ctx.receive()));
    expect(await DynamicSupervisor.terminateChild(node, 'dsup', stranger)).toEqual({ error: 'not_found' });
    const done = exitReasonOf(node, kid);
    expect(await DynamicSupervisor.terminateChild(node, 'dsup', kid)).toBe('ok');
    expect(await done).toBe('shutdown');
    expect(await DynamicSupervisor.terminateChild(node, sup, kid)).toEqual({ error: 'not_found' });
    expect(await DynamicSupervisor.whichChildren(node, sup)).toEqual([]);
    expect(await DynamicSupervisor.startChild(node, sup, { start: () => ({ error: 'nope' }) })).toEqual({ error: 'nope' });
    expect(await DynamicSupervisor.startChild(node, sup, { start: 5 } as never)).toMatchObject({ error: { start_spec: { problem: 'invalid_start' } } });
    await DynamicSupervisor.stop(node, sup);
    await expect(DynamicSupervisor.whichChildren(node, sup)).rejects.toBeInstanceOf(NoProcError);
  });

  it('supervisor_SUITE:sup_stop_timeout_dynamic / simple_one_for_one_shutdown — children are shut down concurrently', async () => {
    const node = testNode();
    const sup = started(await DynamicSupervisor.start(node));
    const log: string[] = [];
    const kids: Pid[] = [];
    for (let i = 0; i < 3; i++) {
      kids.push(
        await startKid(node, sup, {
          shutdown: 100,
          start: (s) => ({
            ok: s.spawnLink(async (ctx) => {
              ctx.trapExit(true);
              for (;;) {
                const m = await ctx.receive();
                if (isExitMessage(m)) log.push(`got ${String(m.reason)}`); // and hang: must be killed
              }
            }),
          }),
        }),
      );
    }
    node.events.on('exit', (e) => {
      if (kids.some((k) => k.equals(e.pid))) log.push(`exit ${String(e.reason)}`);
    });
    const t0 = performance.now();
    await DynamicSupervisor.stop(node, sup);
    const elapsed = performance.now() - t0;
    // Sequential shutdown would interleave "got shutdown" and "exit killed"; concurrent sends all signals first.
    expect(log).toEqual(['got shutdown', 'got shutdown', 'got shutdown', 'exit killed', 'exit killed', 'exit killed']);
    expect(elapsed).toBeGreaterThanOrEqual(95);
  });

  it('supervisor_SUITE:sup_stop_brutal_kill_dynamic — 10 brutal_kill children are all killed', async () => {
    const node = testNode();
    const p = await probe(node, { trapExit: true });
    const sup = started(await DynamicSupervisor.startLink(p.ctx));
    const kids: Pid[] = [];
    for (let i = 0; i < 10; i++) kids.push(await startKid(node, sup, dyn({ shutdown: 'brutal_kill' }, { trap: true })));
    const reasons = kids.map((k) => exitReasonOf(node, k));
    p.ctx.exit(sup, 'shutdown');
    expect(await Promise.all(reasons)).toEqual(Array(10).fill('killed'));
    const m = await p.next<ExitMessage>((x) => isExitMessage(x) && x.from.equals(sup));
    expect(m.reason).toBe('shutdown');
  });

  it('supervisor_SUITE:sup_stop_non_shutdown_exit_dynamic — own exit reasons during shutdown are kept, for every restart type', async () => {
    const node = testNode();
    const sup = started(await DynamicSupervisor.start(node));
    const own = ['normal', { shutdown: 'x' }, 'other'];
    const kids: Pid[] = [];
    for (const restart of ['permanent', 'transient', 'temporary'] as const) {
      for (const r of own) kids.push(await startKid(node, sup, dyn({ restart }, { trap: true, onShutdown: r })));
    }
    const reasons = kids.map((k) => exitReasonOf(node, k));
    await DynamicSupervisor.stop(node, sup, 'shutdown');
    expect(await Promise.all(reasons)).toEqual([...own, ...own, ...own]);
  });

  it('supervisor_SUITE:do_not_save_child_specs_for_temporary_children — a temporary child leaves no spec behind', async () => {
    const node = testNode();
    const sup = started(await DynamicSupervisor.start(node));
    for (let i = 0; i < 50; i++) {
      const kid = await startKid(node, sup, dyn({ restart: 'temporary' }));
      await crash(node, kid, i % 2 === 0 ? 'normal' : 'crash');
    }
    expect(await DynamicSupervisor.countChildren(node, sup)).toEqual({ specs: 0, active: 0, supervisors: 0, workers: 0 });
  });

  it('supervisor_SUITE:hanging_restart_loop_simple — a child whose restart keeps failing shows restarting and can be terminated', async () => {
    const node = testNode();
    const sup = started(await DynamicSupervisor.start(node, { intensity: 1_000_000, period: 3600 }));
    let fail = false;
    const kid = await startKid(node, sup, {
      start: async (s) => {
        if (fail) {
          await new Promise((r) => setTimeout(r, 2));
          return { error: 'start_failed' };
        }
        return { ok: s.spawnLink(workerBody()) };
      },
    });
    fail = true;
    await crash(node, kid);
    expect(await DynamicSupervisor.whichChildren(node, sup)).toEqual([{ id: undefined, pid: 'restarting', type: 'worker' }]);
    expect(await DynamicSupervisor.countChildren(node, sup)).toEqual({ specs: 1, active: 0, supervisors: 0, workers: 1 });
    expect(await DynamicSupervisor.terminateChild(node, sup, kid)).toBe('ok');
    expect(await DynamicSupervisor.whichChildren(node, sup)).toEqual([]);
    await DynamicSupervisor.stop(node, sup);
  });

  it('DynamicSupervisor:flags — invalid flags are rejected with { supervisor_data }', async () => {
    const node = testNode();
    expect(await DynamicSupervisor.start(node, { maxChildren: -1 })).toMatchObject({ error: { supervisor_data: { problem: 'invalid_max_children' } } });
    expect(await DynamicSupervisor.start(node, { intensity: -1 })).toMatchObject({ error: { supervisor_data: { problem: 'invalid_intensity' } } });
    expect(await DynamicSupervisor.start(node, { period: 0 })).toMatchObject({ error: { supervisor_data: { problem: 'invalid_period' } } });
    expect(await DynamicSupervisor.start(node, { extraArguments: 'x' as never })).toMatchObject({ error: { supervisor_data: { problem: 'invalid_extra_arguments' } } });
    const sup = started(await DynamicSupervisor.start(node));
    expect(await DynamicSupervisor.startChild(node, sup, { ...dyn({ restart: 'temporary' }), significant: true } as never)).toMatchObject({
      error: { start_spec: { problem: 'bad_combination' } },
    });
  });

  it('supervisor_SUITE:tree (dynamic) — a DynamicSupervisor under a Supervisor loses its dynamic children on restart', async () => {
    const node = testNode();
    const { Supervisor } = await import('../src/index.js');
    const top = started(await Supervisor.start(node, {}, [{ id: 'dyn', type: 'supervisor', start: (ctx) => DynamicSupervisor.startLink(ctx) }]));
    const d = (await Supervisor.whichChildren(node, top))[0]!.pid as Pid;
    const kid = await startKid(node, d, dyn());
    const kidDone = exitReasonOf(node, kid);
    const exits = recordExits(node);
    node.exit(d, 'kill');
    expect(await kidDone).toBe('killed');
    const d2 = (await Supervisor.whichChildren(node, top))[0]!.pid as Pid;
    expect(d2.equals(d)).toBe(false);
    expect(await DynamicSupervisor.countChildren(node, d2)).toMatchObject({ specs: 0 });
    expect(exits.length).toBe(2);
  });
});
