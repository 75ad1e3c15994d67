import { describe, expect, it } from 'vitest';
import { recordRestart } from '../src/supervisor/restart-intensity.js';
import { onChildExit, planRestart, type ChildView } from '../src/supervisor/strategy.js';

const v = (id: string, restart: ChildView['restart'] = 'permanent', extra: Partial<ChildView> = {}): ChildView => ({
  id,
  restart,
  significant: false,
  present: true,
  running: true,
  ...extra,
});

describe('Supervisor decisions (pure)', () => {
  it('supervisor_SUITE:multiple_restarts (pure) — the intensity window slides with the passed-in clock', () => {
    const lim = { intensity: 1, period: 1 };
    let r = recordRestart([], 0, lim);
    expect(r.exceeded).toBe(false);
    r = recordRestart(r.times, 2100, lim); // 2.1 s later: the first fell out of the window
    expect(r).toEqual({ times: [2100], exceeded: false });
    r = recordRestart(r.times, 2500, lim);
    expect(r.exceeded).toBe(true);
    expect(recordRestart([], 0, { intensity: 0, period: 5 }).exceeded).toBe(true);
  });

  it('strategy — one_for_all and rest_for_one plans stop bystanders newest first and drop temporary ones', () => {
    const kids = [v('a'), v('b'), v('t', 'temporary'), v('c'), v('stopped', 'permanent', { running: false, present: false })];
    expect(planRestart('one_for_one', kids, 'b')).toEqual({ terminate: [], remove: [], start: ['b'] });
    expect(planRestart('one_for_all', kids, 'b')).toEqual({ terminate: ['c', 't', 'a'], remove: ['t'], start: ['a', 'b', 'c', 'stopped'] });
    expect(planRestart('rest_for_one', kids, 'b')).toEqual({ terminate: ['c', 't'], remove: ['t'], start: ['b', 'c', 'stopped'] });
  });

  it('strategy — onChildExit follows the restart type and the auto-shutdown rules', () => {
    const kids = [v('p'), v('tr', 'transient'), v('te', 'temporary')];
    expect(onChildExit(kids, 'p', 'normal', 'never')).toEqual({ kind: 'restart' });
    expect(onChildExit(kids, 'tr', { shutdown: 1 }, 'never')).toEqual({ kind: 'ignore', remove: false });
    expect(onChildExit(kids, 'tr', 'killed', 'never')).toEqual({ kind: 'restart' });
    expect(onChildExit(kids, 'te', 'crash', 'never')).toEqual({ kind: 'ignore', remove: true });
    const sig = [v('s1', 'temporary', { significant: true }), v('s2', 'transient', { significant: true })];
    expect(onChildExit(sig, 's1', 'crash', 'any_significant')).toEqual({ kind: 'auto_shutdown', remove: true });
    expect(onChildExit(sig, 's1', 'crash', 'all_significant')).toEqual({ kind: 'ignore', remove: true });
    expect(onChildExit([sig[0]!, { ...sig[1]!, present: false, running: false }], 's1', 'crash', 'all_significant')).toEqual({ kind: 'auto_shutdown', remove: true });
    expect(onChildExit(sig, 's2', 'crash', 'any_significant')).toEqual({ kind: 'restart' });
  });
});
