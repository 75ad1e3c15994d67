import { describe, expect, it } from 'vitest';
import { nodesPerTest } from './helpers.js';
import { DynamicSupervisor, Supervisor, type ChildSpec, type Pid } from '../src/index.js';

/**
 * Rule (erl, OTP 25): a child start returning something that is not a start
 * result is reported as the value itself — `{failed_to_start_child, Id,
 * Value}` at supervisor start, `{error, Value}` from start_child — not
 * wrapped in `bad_return_value`.
 */

const node = nodesPerTest();

const garbage = (() => 42) as unknown as ChildSpec['start'];

describe('child start returning a non-start-result', () => {
  it('supervisor_SUITE:sup_start_fail rule — start reports failed_to_start_child with the value itself', async () => {
    const n = node();
    const r = await Supervisor.start(n, {}, [{ id: 'c', start: garbage }]);
    expect(r).toEqual({ error: { shutdown: { failed_to_start_child: 'c', reason: 42 } } });
  });

  it('supervisor_SUITE rule — startChild gives { error: value }', async () => {
    const n = node();
    const sup = ((await Supervisor.start(n, {}, [])) as { ok: Pid }).ok;
    expect(await Supervisor.startChild(n, sup, { id: 'c', start: garbage })).toEqual({ error: 42 });
    const dyn = ((await DynamicSupervisor.start(n)) as { ok: Pid }).ok;
    expect(await DynamicSupervisor.startChild(n, dyn, { start: garbage })).toEqual({ error: 42 });
  });

  it('DynamicSupervisor rule (Elixir) — startChild answers ignore when the child’s start ignores', async () => {
    const n = node();
    const dyn = ((await DynamicSupervisor.start(n)) as { ok: Pid }).ok;
    expect(await DynamicSupervisor.startChild(n, dyn, { start: () => 'ignore' })).toBe('ignore');
    expect(await DynamicSupervisor.countChildren(n, dyn)).toMatchObject({ specs: 0, active: 0 });
  });
});
