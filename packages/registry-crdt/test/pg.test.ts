import { afterEach, describe, expect, it } from 'vitest';
import type { Node, Pid } from '@troupe/actor-core';
import { NoLocalError, ProcessGroups, isPgEvent, type PgEvent } from '../src/index.js';
import { cluster, idle, probe, shutdownAll, testNode, until } from './helpers.js';

const fast = { discoveryMs: 50, antiEntropyMs: 200 };
let nodes: Node[] = [];
afterEach(() => shutdownAll(nodes));

const sorted = (pids: Pid[]): string[] => pids.map((p) => p.key).sort();

describe('pg (OTP pg_SUITE, §2.F)', () => {
  it('#95 single / double: join, multi-join, leave, not_joined, which_groups; member death leaves', async () => {
    const n = testNode('a@mem');
    nodes = [n];
    const pg = await ProcessGroups.start(n, fast);
    const p = idle(n);
    expect(pg.join('g', p)).toBe('ok');
    expect(pg.join('g', [p, p])).toBe('ok');
    expect(pg.members('g')).toEqual([p, p, p]);
    expect(pg.whichGroups()).toEqual(['g']);
    expect(pg.leave('g', p)).toBe('ok');
    expect(pg.members('g')).toEqual([p, p]);
    expect(pg.leave('other', p)).toBe('not_joined');
    pg.join('h', p);
    expect(pg.whichGroups().sort()).toEqual(['g', 'h']);
    n.send(p, 'stop');
    await until(() => pg.whichGroups().length === 0, 2000, 'dead member leaves');
    expect(pg.members('g')).toEqual([]);
    expect(pg.leave('g', idle(n))).toBe('not_joined');
  });

  it('#97 process_owner_check / nolocal: a remote pid cannot join; localMembers excludes remote pids', async () => {
    const c = cluster(['a', 'b']);
    nodes = c.nodes;
    const [a, b] = c.nodes as [Node, Node];
    const [pa, pb] = await Promise.all([ProcessGroups.start(a, fast), ProcessGroups.start(b, fast)]);
    const remote = idle(b);
    expect(() => pa.join('g', remote)).toThrow(NoLocalError);
    pb.join('g', remote);
    const local = idle(a);
    pa.join('g', local);
    await until(() => pa.members('g').length === 2);
    expect(pa.localMembers('g')).toEqual([local]);
    expect(pb.localMembers('g')).toEqual([remote]);
  });

  it('#98 two / empty_group_by_remote_leave: remote membership propagates; an emptied remote group disappears', async () => {
    const c = cluster(['a', 'b']);
    nodes = c.nodes;
    const [a, b] = c.nodes as [Node, Node];
    const [pa, pb] = await Promise.all([ProcessGroups.start(a, fast), ProcessGroups.start(b, fast)]);
    const q = idle(b);
    pb.join('g', [q, q]);
    await until(() => pa.members('g').length === 2, 2000, 'join visible on a');
    pb.leave('g', q);
    await until(() => pa.members('g').length === 1);
    pb.leave('g', q);
    await until(() => !pa.whichGroups().includes('g'), 2000, 'empty group gone on a');
    // removal on exit propagates too
    const r = idle(b);
    pb.join('h', r);
    await until(() => pa.members('h').length === 1);
    b.send(r, 'stop');
    await until(() => pa.members('h').length === 0, 2000, 'dead remote member removed');
  });

  it('#101 group_leave: a node going down removes all of its members', async () => {
    const c = cluster(['a', 'b', 'c']);
    nodes = c.nodes;
    const [a, b, cc] = c.nodes as [Node, Node, Node];
    const [pa, pb, pc] = await Promise.all([a, b, cc].map((n) => ProcessGroups.start(n, fast)));
    for (let i = 0; i < 10; i++) pb!.join(`g${i % 3}`, idle(b));
    pc!.join('g0', idle(cc));
    await until(() => pa!.members('g0').length === 5 && pc!.members('g0').length === 5, 2000, 'members visible on a and c');
    await c.net.disconnect(a, b);
    await until(() => pa!.members('g0').length === 1, 2000, "b's members gone on a");
    expect(pa!.members('g0').map((p) => p.node)).toEqual(['c@mem']);
    expect(pa!.whichGroups()).toEqual(['g0']);
    // c still sees b's members (not transitive: its own link to b is up)
    expect(pc!.members('g0').length).toBe(5);
  });

  it('#99 netsplit / forced_sync: after a partition heals, the scopes converge', async () => {
    const c = cluster(['a', 'b', 'c', 'd']);
    nodes = c.nodes;
    const pgs = await Promise.all(c.nodes.map((n) => ProcessGroups.start(n, fast)));
    const [a, b, cc, d] = c.nodes as [Node, Node, Node, Node];
    for (const [i, n] of c.nodes.entries()) pgs[i]!.join('g', idle(n));
    await until(() => pgs.every((p) => p.members('g').length === 4));
    await Promise.all([c.net.disconnect(a, cc), c.net.disconnect(a, d), c.net.disconnect(b, cc), c.net.disconnect(b, d)]);
    await until(() => pgs.every((p) => p.members('g').length === 2), 2000, 'each side sees its half');
    // changes on both sides during the split
    pgs[0]!.join('g', idle(a));
    pgs[2]!.join('g', idle(cc));
    pgs[3]!.join('only-cd', idle(d));
    c.net.connect(a, cc);
    c.net.connect(a, d);
    c.net.connect(b, cc);
    c.net.connect(b, d);
    await until(() => pgs.every((p) => p.members('g').length === 6 && p.members('only-cd').length === 1), 3000, 'heal converges');
    const views = pgs.map((p) => sorted(p.members('g')));
    for (const v of views) expect(v).toEqual(views[0]);
  });

  it('#102 monitor / monitor_scope: snapshot, join and leave events (local and remote), demonitor ok/false', async () => {
    const c = cluster(['a', 'b']);
    nodes = c.nodes;
    const [a, b] = c.nodes as [Node, Node];
    const [pa, pb] = await Promise.all([ProcessGroups.start(a, fast), ProcessGroups.start(b, fast)]);
    const early = idle(a);
    pa.join('g', early);
    const watcher = await probe(a);
    const { ref, members } = pa.monitor(watcher.pid, 'g');
    expect(members).toEqual([early]);
    const scopeWatcher = await probe(a);
    const scope = pa.monitorScope(scopeWatcher.pid);
    expect(scope.groups.get('g')).toEqual([early]);

    const remote = idle(b);
    pb.join('g', remote);
    const j = await watcher.next<PgEvent>((m) => isPgEvent(m) && m.ref.equals(ref));
    expect(j).toMatchObject({ event: 'join', group: 'g' });
    expect(j.pids).toEqual([remote]);
    const sj = await scopeWatcher.next<PgEvent>(isPgEvent);
    expect(sj.event).toBe('join');

    pb.join('other', remote); // only the scope watcher hears about it
    const so = await scopeWatcher.next<PgEvent>(isPgEvent);
    expect(so.group).toBe('other');

    pa.leave('g', early);
    const l = await watcher.next<PgEvent>(isPgEvent);
    expect(l).toMatchObject({ event: 'leave', group: 'g' });
    expect(l.pids).toEqual([early]);

    b.send(remote, 'stop');
    const l2 = await watcher.next<PgEvent>(isPgEvent);
    expect(l2).toMatchObject({ event: 'leave', group: 'g' });
    expect(l2.pids).toEqual([remote]);

    expect(pa.demonitor(ref)).toBe('ok');
    expect(pa.demonitor(ref)).toBe(false);
    expect(pa.demonitor(scope.ref)).toBe('ok');
    expect(() => pa.monitor(remote, 'g')).toThrow(NoLocalError);
  });

  it('#100 scope_restart: a restarted scope loses local members and relearns remote ones', async () => {
    const c = cluster(['a', 'b']);
    nodes = c.nodes;
    const [a, b] = c.nodes as [Node, Node];
    const [pa, pb] = await Promise.all([ProcessGroups.start(a, fast), ProcessGroups.start(b, fast)]);
    pa.join('g', idle(a));
    pb.join('g', idle(b));
    await until(() => pa.members('g').length === 2 && pb.members('g').length === 2);
    await pa.stop();
    expect(() => pa.members('g')).toThrow(/not running/);
    await until(() => pb.members('g').length === 1, 2000, 'b drops a\'s members when a\'s scope stops');
    const pa2 = await ProcessGroups.start(a, fast);
    await until(() => pa2.members('g').length === 1, 2000, 'restarted scope relearns remote members');
    expect(pa2.localMembers('g')).toEqual([]);
    expect(await pa2.whenReady(1000)).toBe(true);
  });
});
