/**
 * A node restarts under the same name with a new creation: pids of the old
 * incarnation are dead: monitor → noproc, sends are
 * dropped and never reach the new incarnation's process with the same id.
 */
import { describe, expect, it } from 'vitest';
import { useClusters } from './helpers.js';

const start = useClusters();

describe('restart with a new creation', () => {
  it('monitor_SUITE otp_5827 / monitor_3_noproc: old pids after a restart get noproc; sends never reach the new process', async () => {
    const c = await start({ nodes: ['a', 'b'] });
    const [a, b] = [c.node('a'), c.node('b')];
    const oldProbe = await b.probe();
    const oldCreation = b.creation;
    const mark = a.mark();
    await b.restart();
    expect(b.creation).not.toBe(oldCreation);
    // a saw the old incarnation go and the new one come.
    await a.waitNodeDown(b.name, { since: mark });
    const up = await a.waitNodeUp(b.name, { since: mark });
    expect(up.creation).toBe(b.creation);

    // The new incarnation's first probe gets the same process id as the old one.
    const newProbe = await b.probe();
    expect(newProbe.pid.id).toBe(oldProbe.pid.id);
    expect(newProbe.pid.creation).not.toBe(oldProbe.pid.creation);

    const watcher = await a.probe();
    const since = a.mark();
    const [ref] = await watcher.monitor(oldProbe.pid);
    const down = await watcher.nextDown({ since });
    expect(down.ref).toEqual(ref);
    expect(down.reason).toBe('noproc');

    // Same sender, same FIFO: once 'fresh' (to the new pid) arrived, 'stale' (to the old one, sent first) would have too.
    const bMark = b.mark();
    await watcher.send(oldProbe.pid, 'stale');
    await watcher.send(newProbe.pid, 'fresh');
    expect(await newProbe.nextMessage({ since: bMark })).toBe('fresh');
    expect(newProbe.messages(bMark)).toEqual(['fresh']);

    // A call to an old pid fails like a call to a dead process, not a hang.
    await expect(a.call(oldProbe.pid, 'x', 2000)).rejects.toMatchObject({ name: 'NoProcError' });
  });
});
