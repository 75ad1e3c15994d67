import { describe, expect, it } from 'vitest';
import { downFor, exitOf, probe, recorder, sleeper, testNode, until } from './helpers.js';
import { BadArgError, Ref, isDownMessage, type DownMessage, type Pid, type ProcessContext } from '../src/index.js';

describe('monitor_SUITE (2.B, local)', () => {
  it('monitor_SUITE:case_1 — a monitored process kills its monitor owner and exits: nothing breaks, no leaked DOWN', async () => {
    const node = testNode();
    const outer = await probe(node);
    let targetCtx!: ProcessContext;
    const target = node.spawn(async (ctx) => {
      targetCtx = ctx;
      await ctx.receive((m) => m === 'go');
    });
    await until(() => targetCtx !== undefined);
    const owner = node.spawn(async (ctx) => {
      ctx.monitor(target);
      ctx.send(outer.pid, 'monitoring');
      await ctx.receive(() => false);
    });
    await outer.next((m) => m === 'monitoring');
    expect(node.processInfo(target)?.monitoredBy).toEqual([owner]);
    const ownerRef = outer.ctx.monitor(owner);
    const targetRef = outer.ctx.monitor(target);
    targetCtx.exit(owner, 'kill');
    node.send(target, 'go');
    expect((await outer.next<DownMessage>(downFor(ownerRef))).reason).toBe('killed');
    expect((await outer.next<DownMessage>(downFor(targetRef))).reason).toBe('normal');
    expect(node.processInfo(outer.pid)?.monitors).toEqual([]);
    expect(node.mailboxOf(outer.pid)).toEqual([]);
  });

  it('monitor_SUITE:case_1a — the monitor owner dies first: the target keeps running and its monitoredBy is cleaned up', async () => {
    const node = testNode();
    const target = recorder(node);
    const owner = await probe(node);
    owner.ctx.monitor(target.pid);
    expect(node.processInfo(target.pid)?.monitoredBy).toEqual([owner.pid]);
    node.exit(owner.pid, 'kill');
    expect(node.processInfo(target.pid)?.monitoredBy).toEqual([]);
    node.send(target.pid, 'still alive');
    await until(() => target.msgs.length === 1);
    node.exit(target.pid, 'bye'); // nobody to notify; must not throw
    expect(node.isAlive(target.pid)).toBe(false);
  });

  it('monitor_SUITE:case_2 — the monitored side demonitoring the owner\'s ref is a no-op returning true; the owner still gets DOWN normal', async () => {
    const node = testNode();
    const owner = await probe(node);
    let tctx!: ProcessContext;
    const target = node.spawn(async (ctx) => {
      tctx = ctx;
      await ctx.receive((m) => m === 'stop');
    });
    await until(() => tctx !== undefined);
    const ref = owner.ctx.monitor(target);
    expect(tctx.demonitor(ref)).toBe(true);
    expect(tctx.demonitor(ref, { info: true })).toBe(false);
    expect(node.processInfo(target)?.monitoredBy).toEqual([owner.pid]);
    node.send(target, 'stop');
    const d = await owner.next<DownMessage>(downFor(ref));
    expect(d).toEqual({ type: 'DOWN', ref, object: target, reason: 'normal' });
  });

  it('monitor_SUITE:mon_e_1 — monitor with a bad target raises badarg', async () => {
    const node = testNode();
    const p = await probe(node);
    const bad: unknown[] = [42, null, undefined, {}, { name: 1, node: 'x' }, { name: 'a' }, ['a'], Symbol('s')];
    for (const b of bad) expect(() => p.ctx.monitor(b as Pid), String(b)).toThrow(BadArgError);
    expect(node.processInfo(p.pid)?.monitors).toEqual([]);
  });

  it('monitor_SUITE:demon_e_1 — demonitor(non-ref) and a ref from another node raise badarg; another owner\'s ref is a no-op', async () => {
    const node = testNode();
    const p = await probe(node);
    const q = await probe(node);
    const bad: unknown[] = [42, 'ref', null, {}, p.pid];
    for (const b of bad) expect(() => p.ctx.demonitor(b as Ref)).toThrow(BadArgError);
    expect(() => p.ctx.demonitor(new Ref('other@host', 1, 1))).toThrow(BadArgError);
    const t = sleeper(node);
    const ref = q.ctx.monitor(t);
    expect(p.ctx.demonitor(ref)).toBe(true);
    node.exit(t, 'x');
    expect((await q.next<DownMessage>(downFor(ref))).reason).toBe('x');
  });

  it('monitor_SUITE:demon_1/demon_2 — demonitor(unknown) is true; twice is fine; demonitor before death means no DOWN', async () => {
    const node = testNode();
    const p = await probe(node);
    expect(p.ctx.demonitor(node.makeRef())).toBe(true);
    const t = sleeper(node);
    const ref = p.ctx.monitor(t);
    expect(p.ctx.demonitor(ref)).toBe(true);
    expect(p.ctx.demonitor(ref)).toBe(true);
    expect(node.processInfo(t)?.monitoredBy).toEqual([]);
    expect(node.processInfo(p.pid)?.monitors).toEqual([]);
    node.exit(t, 'x');
    expect(await p.none(isDownMessage, 30)).toBe(true);
  });

  it('monitor_SUITE:demonitor_flush — flush removes a queued DOWN; without flush the DOWN stays', async () => {
    const node = testNode();
    const p = await probe(node);
    const a = sleeper(node);
    const b = sleeper(node);
    const ra = p.ctx.monitor(a);
    const rb = p.ctx.monitor(b);
    node.exit(a, 'x');
    node.exit(b, 'y');
    node.send(p.pid, 'after');
    expect(node.mailboxOf(p.pid)).toHaveLength(3);
    expect(p.ctx.demonitor(ra, { flush: true })).toBe(true);
    expect(p.ctx.demonitor(rb)).toBe(true);
    expect(node.mailboxOf(p.pid)).toEqual([{ type: 'DOWN', ref: rb, object: b, reason: 'y' }, 'after']);
    expect(await p.next(downFor(rb))).toEqual({ type: 'DOWN', ref: rb, object: b, reason: 'y' });
    expect(await p.next()).toBe('after');
  });

  it('Appendix A — demonitor(M, {flush, info}) after death returns false and leaves no message; without flush the DOWN stays', async () => {
    const node = testNode();
    const p = await probe(node);
    const a = sleeper(node);
    const b = sleeper(node);
    const ra = p.ctx.monitor(a);
    const rb = p.ctx.monitor(b);
    node.exit(a, 'x');
    node.exit(b, 'x');
    expect(p.ctx.demonitor(ra, { flush: true, info: true })).toBe(false);
    expect(p.ctx.demonitor(rb, { info: true })).toBe(false);
    expect(node.mailboxOf(p.pid)).toEqual([{ type: 'DOWN', ref: rb, object: b, reason: 'x' }]);
  });

  it('monitor_SUITE:local_remove_monitor — demonitor(R, {info}) is true exactly when no DOWN was or will be delivered', async () => {
    const node = testNode();
    const p = await probe(node);
    let removedBefore = 0;
    let firedBefore = 0;
    for (let i = 0; i < 200; i++) {
      const t = node.spawn(async (ctx) => {
        if (i % 3 === 0) return;
        await ctx.receive((m) => m === 'stop');
      });
      const ref = p.ctx.monitor(t);
      if (i % 2 === 0) node.send(t, 'stop');
      // let the scheduler run a variable amount of work
      if (i % 5 === 0) await new Promise((r) => setImmediate(r));
      const info = p.ctx.demonitor(ref, { info: true });
      node.exit(t, 'kill');
      if (info) {
        removedBefore++;
        expect(node.mailboxOf(p.pid).some(downFor(ref))).toBe(false);
      } else {
        firedBefore++;
        expect(node.mailboxOf(p.pid).filter(downFor(ref))).toHaveLength(1);
        p.ctx.demonitor(ref, { flush: true });
      }
    }
    expect(await p.none(isDownMessage, 30)).toBe(true);
    expect(removedBefore + firedBefore).toBe(200);
    // Both outcomes occurred (the run interleaves the scheduler differently per i), so both branches were checked.
    expect(removedBefore).toBeGreaterThan(0);
    expect(firedBefore).toBeGreaterThan(0);
  });

  it('monitor_SUITE:mon_1 — DOWN carries the reason; spawnMonitor; a dead pid gives an immediate noproc DOWN', async () => {
    const node = testNode();
    const p = await probe(node);
    const [pid, ref] = p.ctx.spawnMonitor(async (ctx) => {
      await ctx.receive();
      ctx.exit({ my: 'reason' });
    });
    node.send(pid, 'go');
    expect(await p.next(downFor(ref))).toEqual({ type: 'DOWN', ref, object: pid, reason: { my: 'reason' } });

    const dead = node.spawn(async () => {});
    await until(() => !node.isAlive(dead));
    let ref2!: Ref;
    expect(() => (ref2 = p.ctx.monitor(dead))).not.toThrow();
    expect(node.mailboxOf(p.pid)).toEqual([{ type: 'DOWN', ref: ref2, object: dead, reason: 'noproc' }]);
    expect(await p.next(downFor(ref2))).toEqual({ type: 'DOWN', ref: ref2, object: dead, reason: 'noproc' });
  });

  it('monitor_SUITE:mon_1 — a name monitor\'s DOWN object is { name, node }; a string and { name, ownNode } both work', async () => {
    const node = testNode('mon@host');
    const p = await probe(node);
    const t = sleeper(node, { name: 'worker' });
    const r1 = p.ctx.monitor('worker');
    const r2 = p.ctx.monitor({ name: 'worker', node: 'mon@host' });
    expect(node.processInfo(p.pid)?.monitors).toEqual([
      { name: 'worker', node: 'mon@host' },
      { name: 'worker', node: 'mon@host' },
    ]);
    expect(node.processInfo(t)?.monitoredBy).toEqual([p.pid, p.pid]);
    node.exit(t, 'bye');
    expect(await p.next(downFor(r1))).toEqual({ type: 'DOWN', ref: r1, object: { name: 'worker', node: 'mon@host' }, reason: 'bye' });
    expect(await p.next(downFor(r2))).toEqual({ type: 'DOWN', ref: r2, object: { name: 'worker', node: 'mon@host' }, reason: 'bye' });
  });

  it('monitor_SUITE:monitor_3_noproc_gh6185 (local) — monitoring an unknown name gives an immediate DOWN {name, node} noproc, never a throw', async () => {
    const node = testNode('mon@host');
    const p = await probe(node);
    const r = p.ctx.monitor('nobody');
    const r2 = p.ctx.monitor({ name: 'nobody', node: 'mon@host' });
    expect(await p.next(downFor(r))).toEqual({ type: 'DOWN', ref: r, object: { name: 'nobody', node: 'mon@host' }, reason: 'noproc' });
    expect(await p.next(downFor(r2))).toEqual({ type: 'DOWN', ref: r2, object: { name: 'nobody', node: 'mon@host' }, reason: 'noproc' });
    expect(node.processInfo(p.pid)?.monitors).toEqual([]);
  });

  it('§1.3 #25 — two monitors on one target are independent: two DOWNs with two refs', async () => {
    const node = testNode();
    const p = await probe(node);
    const t = sleeper(node);
    const r1 = p.ctx.monitor(t);
    const r2 = p.ctx.monitor(t);
    expect(r1.equals(r2)).toBe(false);
    node.exit(t, 'x');
    const d1 = await p.next<DownMessage>(downFor(r1));
    const d2 = await p.next<DownMessage>(downFor(r2));
    expect([d1.reason, d2.reason]).toEqual(['x', 'x']);
    expect(await p.none(isDownMessage, 20)).toBe(true);

    // removing one leaves the other in place
    const t2 = sleeper(node);
    const a = p.ctx.monitor(t2);
    const b = p.ctx.monitor(t2);
    p.ctx.demonitor(a);
    node.exit(t2, 'y');
    expect((await p.next<DownMessage>(downFor(b))).reason).toBe('y');
    expect(await p.none(downFor(a), 20)).toBe(true);
  });

  it('§1.3 #23 — monitors are one-way: the target is unaffected when the owner dies, and the owner is not killed by the target', async () => {
    const node = testNode();
    const target = recorder(node);
    const owner = node.spawn(async (ctx) => {
      ctx.monitor(target.pid);
      await ctx.receive((m) => m === 'die');
      throw new Error('owner crash');
    });
    await until(() => node.processInfo(target.pid)?.monitoredBy.length === 1);
    node.send(owner, 'die');
    await until(() => !node.isAlive(owner));
    expect(node.isAlive(target.pid)).toBe(true);
    expect(target.msgs).toEqual([]);

    const p = await probe(node);
    const t2 = sleeper(node);
    const ref = p.ctx.monitor(t2);
    node.exit(t2, 'crash');
    expect((await p.next<DownMessage>(downFor(ref))).reason).toBe('crash');
    expect(node.isAlive(p.pid)).toBe(true);
  });

  it('§1.3 #24 — exactly one DOWN per monitor, whatever the reason (kill, error, normal)', async () => {
    const node = testNode();
    const p = await probe(node);
    const a = sleeper(node);
    const b = node.spawn({
      handle() {
        throw new Error('e');
      },
    });
    const c = node.spawn(async () => {});
    const ra = p.ctx.monitor(a);
    const rb = p.ctx.monitor(b);
    const rc = p.ctx.monitor(c);
    node.exit(a, 'kill');
    node.send(b, 'go');
    expect((await p.next<DownMessage>(downFor(ra))).reason).toBe('killed');
    expect((await p.next<DownMessage>(downFor(rb))).reason).toMatchObject({ error: { message: 'e' } });
    expect((await p.next<DownMessage>(downFor(rc))).reason).toBe('normal');
    expect(await p.none(isDownMessage, 20)).toBe(true);
  });

  it('§1.3 — spawnMonitor is atomic: a child that crashes at once still gives its real reason, never noproc', async () => {
    const node = testNode();
    const p = await probe(node);
    const [, ref] = p.ctx.spawnMonitor(() => {
      throw new Error('instant');
    });
    expect((await p.next<DownMessage>(downFor(ref))).reason).toMatchObject({ error: { message: 'instant' } });
  });

  it('monitor_SUITE:large_exit — a large exit reason reaches DOWN intact', async () => {
    const node = testNode();
    const p = await probe(node);
    const big = { blob: 'x'.repeat(1_000_000), list: Array.from({ length: 100_000 }, (_, i) => i) };
    const [, ref] = p.ctx.spawnMonitor(async (ctx) => {
      ctx.exit(big);
    });
    const d = await p.next<DownMessage>(downFor(ref));
    expect(d.reason).toEqual(big);
  });

  it('monitor_SUITE:list_cleanup — monitors/monitoredBy bookkeeping is cleaned on demonitor and on death of either side', async () => {
    const node = testNode();
    const owner = await probe(node);
    const t1 = sleeper(node);
    const t2 = sleeper(node);
    const r1 = owner.ctx.monitor(t1);
    owner.ctx.monitor(t2);
    owner.ctx.monitor(t2);
    expect(node.processInfo(owner.pid)?.monitors).toEqual([t1, t2, t2]);
    expect(node.processInfo(t1)?.monitoredBy).toEqual([owner.pid]);
    expect(node.processInfo(t2)?.monitoredBy).toEqual([owner.pid, owner.pid]);
    owner.ctx.demonitor(r1);
    expect(node.processInfo(owner.pid)?.monitors).toEqual([t2, t2]);
    expect(node.processInfo(t1)?.monitoredBy).toEqual([]);
    // target death clears the owner's side
    node.exit(t2, 'x');
    expect(node.processInfo(owner.pid)?.monitors).toEqual([]);
    // owner death clears the target's side
    const o2 = await probe(node);
    o2.ctx.monitor(t1);
    expect(node.processInfo(t1)?.monitoredBy).toEqual([o2.pid]);
    node.exit(o2.pid, 'kill');
    expect(node.processInfo(t1)?.monitoredBy).toEqual([]);
  });

  it('monitor_SUITE:mixer — many owners and targets, random demonitors and deaths: no leaks, one DOWN per live monitor', async () => {
    const node = testNode();
    const owners = await Promise.all(Array.from({ length: 4 }, () => probe(node)));
    const targets = Array.from({ length: 6 }, () => sleeper(node));
    const live = new Map<string, { owner: number; ref: Ref }>();
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < 300; i++) {
      const o = rnd(owners.length);
      const t = targets[rnd(targets.length)]!;
      const ref = owners[o]!.ctx.monitor(t);
      if (rnd(3) === 0) owners[o]!.ctx.demonitor(ref);
      else live.set(ref.key, { owner: o, ref });
    }
    for (const t of targets) node.exit(t, 'done');
    for (const { owner, ref } of live.values()) {
      expect((await owners[owner]!.next<DownMessage>(downFor(ref))).reason).toBe('done');
    }
    for (const o of owners) {
      expect(node.processInfo(o.pid)?.monitors).toEqual([]);
      expect(node.mailboxOf(o.pid)).toEqual([]);
    }
  });

  it('monitor_SUITE:named_down — a name monitor\'s DOWN is delivered only after the name is free (the owner re-registers it at once)', async () => {
    const node = testNode();
    const t = sleeper(node, { name: 'reg' });
    const seen: unknown[] = [];
    const owner = node.spawn<unknown, Ref | undefined>({
      init(ctx) {
        return ctx.monitor('reg');
      },
      handle(m, ctx) {
        if (isDownMessage(m) && ctx.state !== undefined && m.ref.equals(ctx.state)) {
          seen.push(m.object, ctx.whereis('reg'));
          ctx.register('reg');
          seen.push(ctx.whereis('reg'));
        }
      },
    });
    await until(() => node.processInfo(t)?.monitoredBy.length === 1);
    node.exit(t, 'crash');
    await until(() => seen.length === 3);
    expect(seen).toEqual([{ name: 'reg', node: node.name }, undefined, owner]);
    expect(node.whereis('reg')).toEqual(owner);
  });

  it('monitor_SUITE:named_down — the name monitor follows the process resolved at monitor time, not a later holder', async () => {
    const node = testNode();
    const p = await probe(node);
    let first!: ProcessContext;
    const a = node.spawn(async (ctx) => {
      first = ctx;
      await ctx.receive((m) => m === 'stop');
    }, { name: 'n' });
    await until(() => first !== undefined);
    const ref = p.ctx.monitor('n');
    first.unregister('n');
    const b = sleeper(node, { name: 'n' });
    node.exit(b, 'b-died');
    expect(await p.none(downFor(ref), 20)).toBe(true);
    node.send(a, 'stop');
    expect(await p.next(downFor(ref))).toEqual({ type: 'DOWN', ref, object: { name: 'n', node: node.name }, reason: 'normal' });
  });
});

describe('signal_SUITE ordering of DOWN (2.A rows 13-14, local)', () => {
  it('signal_SUITE:monitor_order — a DOWN never overtakes earlier messages from the dying process', async () => {
    const node = testNode();
    const p = await probe(node);
    const n = 1000;
    const [pid, ref] = p.ctx.spawnMonitor(async (ctx) => {
      for (let i = 0; i < n; i++) ctx.send(p.pid, i);
      ctx.exit('done');
    });
    for (let i = 0; i < n; i++) {
      const m = await p.next((x) => typeof x === 'number' || isDownMessage(x));
      expect(m).toBe(i);
    }
    expect(await p.next()).toEqual({ type: 'DOWN', ref, object: pid, reason: 'done' });
  });

  it('signal_SUITE:monitor_order — a behaviour target\'s messages (relayed) precede its DOWN (relayed by the owner) in one recorder', async () => {
    const node = testNode();
    const out = recorder(node);
    const t = node.spawn<number>({
      handle(m, ctx) {
        ctx.send(out.pid, m);
        if (m === 99) throw new Error('stop');
      },
    });
    // the recorder monitors t through a behaviour that forwards its DOWN into the same recorder
    const fwd = node.spawn<unknown>({
      init(ctx): undefined {
        ctx.monitor(t);
        return undefined;
      },
      handle(m, ctx) {
        ctx.send(out.pid, m);
      },
    });
    void fwd;
    await until(() => node.processInfo(t)?.monitoredBy.length === 1);
    for (let i = 0; i < 100; i++) node.send(t, i);
    await until(() => out.msgs.length === 101);
    expect(out.msgs.slice(0, 100)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(out.msgs[100]).toMatchObject({ type: 'DOWN', object: t, reason: { error: { message: 'stop' } } });
  });

  it('signal_SUITE:monitor_named_order_local — messages sent by pid and by name keep their order relative to a name monitor\'s DOWN', async () => {
    const node = testNode();
    const owner = await probe(node);
    owner.ctx.register('owner');
    let tctx!: ProcessContext;
    const target = node.spawn(async (ctx) => {
      tctx = ctx;
      await ctx.receive((m) => m === 'go');
      for (let i = 0; i < 300; i++) {
        if (i % 3 === 0) ctx.send(owner.pid, i);
        else if (i % 3 === 1) ctx.send('owner', i);
        else ctx.send({ name: 'owner', node: node.name }, i);
      }
      ctx.exit('fin');
    }, { name: 'target' });
    await until(() => tctx !== undefined);
    const ref = owner.ctx.monitor('target');
    node.send(target, 'go');
    const got: unknown[] = [];
    for (;;) {
      const m = await owner.next();
      got.push(m);
      if (isDownMessage(m)) break;
    }
    expect(got.slice(0, -1)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(got.at(-1)).toEqual({ type: 'DOWN', ref, object: { name: 'target', node: node.name }, reason: 'fin' });
  });
});
