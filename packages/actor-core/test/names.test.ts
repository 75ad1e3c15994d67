import { describe, expect, it } from 'vitest';
import { downFor, exitFrom, probe, recorder, sleeper, testNode, until } from './helpers.js';
import { BadArgError, Pid, type ExitMessage, type ProcessContext } from '../src/index.js';

describe('§1.6 registered names', () => {
  it('§1.6 #41 — register / whereis / unregister / registered', async () => {
    const node = testNode();
    const a = sleeper(node);
    expect(node.whereis('a')).toBeUndefined();
    expect(() => node.register('a', a)).not.toThrow();
    expect(node.whereis('a')).toEqual(a);
    expect(node.registered()).toEqual(['a']);
    expect(node.processInfo(a)?.name).toBe('a');
    node.unregister('a');
    expect(node.whereis('a')).toBeUndefined();
    expect(node.registered()).toEqual([]);
    expect(node.processInfo(a)?.name).toBeNull();
    // the process can take a name again after unregistering
    node.register('b', a);
    expect(node.whereis('b')).toEqual(a);
  });

  it('§1.6 #41 — ctx.register / ctx.unregister / ctx.whereis act for the calling process', async () => {
    const node = testNode();
    const p = await probe(node);
    p.ctx.register('me');
    expect(p.ctx.whereis('me')).toEqual(p.pid);
    p.ctx.unregister('me');
    expect(p.ctx.whereis('me')).toBeUndefined();
  });

  it('process_SUITE:bad_register — a taken name, a pid that already has a name, a dead pid, a non-pid: badarg', async () => {
    const node = testNode();
    const a = sleeper(node);
    const b = sleeper(node);
    node.register('taken', a);
    expect(() => node.register('taken', b)).toThrow(BadArgError);
    expect(() => node.register('taken', a)).toThrow(BadArgError);
    expect(() => node.register('other', a)).toThrow(/already registered/);
    const dead = node.spawn(async () => {});
    await until(() => !node.isAlive(dead));
    expect(() => node.register('ghost', dead)).toThrow(BadArgError);
    expect(node.whereis('ghost')).toBeUndefined();
    expect(() => node.register('np', 'not a pid' as unknown as Pid)).toThrow(BadArgError);
    expect(() => node.register('np2', { id: 1 } as unknown as Pid)).toThrow(BadArgError);
    // an unknown pid of this node, and a pid of an earlier incarnation
    expect(() => node.register('stale', new Pid(node.name, 999_999, node.creation))).toThrow(BadArgError);
    expect(() => node.register('stale2', new Pid(node.name, a.id, node.creation + 1))).toThrow(BadArgError);
    expect(node.registered()).toEqual(['taken']);
  });

  it('process_SUITE:bad_register — bad names are rejected (empty, non-string, undefined)', async () => {
    const node = testNode();
    const a = sleeper(node);
    for (const bad of ['', 42, null, undefined, {}, Symbol('s'), ['x']]) {
      expect(() => node.register(bad as string, a), String(bad)).toThrow(BadArgError);
    }
    expect(node.registered()).toEqual([]);
    expect(node.processInfo(a)?.name).toBeNull();
  });

  it('process_SUITE:bad_register — a send to an unregistered name throws badarg; unregister of an unknown name throws', async () => {
    const node = testNode();
    expect(() => node.send('nobody', 'x')).toThrow(BadArgError);
    try {
      node.send('nobody', 'x');
    } catch (e) {
      expect((e as BadArgError).code).toBe('TROUPE_ERR_BADARG');
    }
    expect(() => node.unregister('nobody')).toThrow(BadArgError);
    const p = await probe(node);
    expect(() => p.ctx.send('nobody', 'x')).toThrow(BadArgError);
    expect(() => p.ctx.unregister('nobody')).toThrow(BadArgError);
  });

  it('§1.4 #35 — a send to an unregistered name inside a handler crashes that process with a BadArgError reason', async () => {
    const node = testNode();
    const w = await probe(node, { trapExit: true });
    const c = w.ctx.spawnLink({
      handle(_m: unknown, ctx: ProcessContext) {
        ctx.send('nobody', 'x');
      },
    });
    node.send(c, 'go');
    const m = await w.next<ExitMessage>(exitFrom(c));
    expect(m.reason).toMatchObject({ error: { name: 'BadArgError', code: 'TROUPE_ERR_BADARG' } });
  });

  it('§1.6 #42 — a name is freed when its process dies (any reason) and can be reused at once', async () => {
    const node = testNode();
    for (const reason of ['normal', 'kill', { error: 'x' }, 'shutdown']) {
      const a = sleeper(node, { name: 'svc' });
      expect(node.whereis('svc')).toEqual(a);
      if (reason === 'normal') {
        node.exit(a, 'kill');
      } else {
        node.exit(a, reason);
      }
      expect(node.whereis('svc')).toBeUndefined();
      expect(node.registered()).not.toContain('svc');
    }
    const ended = node.spawn(async () => {}, { name: 'short' });
    await until(() => !node.isAlive(ended));
    expect(node.whereis('short')).toBeUndefined();
  });

  it('§1.6 #42 — after unregister and re-registration by another process, the old holder\'s death does not remove the new name', async () => {
    const node = testNode();
    const a = sleeper(node, { name: 'n' });
    node.unregister('n');
    const b = sleeper(node, { name: 'n' });
    node.exit(a, 'kill');
    expect(node.whereis('n')).toEqual(b);
  });

  it('§1.6 #42 — send by name resolves the name at send time', async () => {
    const node = testNode();
    const a = recorder(node, { name: 'dest' });
    node.send('dest', 1);
    node.unregister('dest');
    const b = recorder(node);
    node.register('dest', b.pid);
    node.send('dest', 2);
    await until(() => a.msgs.length === 1 && b.msgs.length === 1);
    expect(a.msgs).toEqual([1]);
    expect(b.msgs).toEqual([2]);
  });

  it('§1.6 #43 — { name, node } addressing the own node delivers like a local name', async () => {
    const node = testNode('names@host');
    const r = recorder(node, { name: 'local' });
    node.send({ name: 'local', node: 'names@host' }, 'hello');
    const p = await probe(node);
    p.ctx.send({ name: 'local', node: node.name }, 'from-proc');
    await until(() => r.msgs.length === 2);
    expect(r.msgs).toEqual(['hello', 'from-proc']);
  });

  it('§1.4 #35 — a send to { name, ownNode } never raises, even if the name is not registered (OTP: no badarg)', async () => {
    const node = testNode('names@host');
    expect(() => node.send({ name: 'nobody', node: 'names@host' }, 'x')).not.toThrow();
    const p = await probe(node);
    expect(() => p.ctx.send({ name: 'nobody', node: node.name }, 'x')).not.toThrow();
  });

  it('spawn option name — registers before the process runs; a taken or bad name makes spawn throw and starts nothing', async () => {
    const node = testNode();
    let seen: Pid | undefined;
    const a = node.spawn(async (ctx) => {
      seen = ctx.whereis('early');
    }, { name: 'early' });
    expect(node.whereis('early')).toEqual(a);
    await until(() => seen !== undefined);
    expect(seen).toEqual(a);
    const holder = sleeper(node, { name: 'busy' });
    const before = node.processCount;
    expect(() => sleeper(node, { name: 'busy' })).toThrow(BadArgError);
    expect(() => sleeper(node, { name: '' })).toThrow(BadArgError);
    expect(() => sleeper(node, { name: 7 as unknown as string })).toThrow(BadArgError);
    expect(node.processCount).toBe(before);
    expect(node.whereis('busy')).toEqual(holder);
  });

  it('spawn option name — a process spawned with a name cannot register a second one', async () => {
    const node = testNode();
    const p = sleeper(node, { name: 'first' });
    expect(() => node.register('second', p)).toThrow(BadArgError);
    expect(node.whereis('second')).toBeUndefined();
  });

  it('§1.6 — a monitor by name on a process registered via spawn option gets a DOWN when it exits', async () => {
    const node = testNode();
    const w = await probe(node);
    const t = sleeper(node, { name: 'x' });
    const ref = w.ctx.monitor('x');
    node.exit(t, 'bye');
    expect(await w.next(downFor(ref))).toMatchObject({ object: { name: 'x', node: node.name }, reason: 'bye' });
    expect(node.whereis('x')).toBeUndefined();
  });
});
