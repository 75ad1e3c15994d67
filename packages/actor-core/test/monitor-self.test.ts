import { describe, expect, it } from 'vitest';
import { probe, nodesPerTest } from './helpers.js';
import { Ref } from '../src/index.js';

/** Rule (erl, OTP 25): `monitor(process, self())` returns a ref and creates no monitor; `demonitor(R, [info])` is false. */

const node = nodesPerTest();

describe('monitor(self)', () => {
  it('monitor_SUITE rule — monitoring oneself by pid or name creates no monitor', async () => {
    const n = node();
    const p = await probe(n);
    p.ctx.register('me');
    const byPid = p.ctx.monitor(p.pid);
    const byName = p.ctx.monitor('me');
    expect(byPid).toBeInstanceOf(Ref);
    expect(byName).toBeInstanceOf(Ref);
    const info = n.processInfo(p.pid)!;
    expect(info.monitors).toEqual([]);
    expect(info.monitoredBy).toEqual([]);
    expect(p.ctx.demonitor(byPid, { info: true })).toBe(false);
    expect(p.ctx.demonitor(byName, { info: true })).toBe(false);
  });
});
