// gen_server_SUITE: start, loop_start_fail, otp_7669, stop1..stop7 (local variants).
import { describe, expect, it } from 'vitest';
import { probe, testNode } from './helpers.js';
import { TestVia, isNote, suiteServer, type SuiteArgs } from './gen-server-fixtures.js';
import {
  BadArgError,
  CallExitError,
  GenServer,
  NoProcError,
  isDownMessage,
  isExitMessage,
  isStarted,
  type GenStartResult,
  type Pid,
} from '../src/index.js';

function okPid(r: GenStartResult): Pid {
  if (!isStarted(r)) throw new Error(`start failed: ${JSON.stringify(r)}`);
  return r.ok;
}

describe('GenServer start', () => {
  it('gen_server_SUITE:start — anonymous start, call, stop; a call to the dead server is noproc', async () => {
    const node = testNode();
    const pid = okPid(await GenServer.start(node, suiteServer, 'default'));
    expect(await GenServer.call(node, pid, 'started_p')).toBe('ok');
    expect(await GenServer.call(node, pid, 'stop')).toBe('ok');
    expect(node.isAlive(pid)).toBe(false);
    await expect(GenServer.call(node, pid, 'started_p', 1)).rejects.toBeInstanceOf(NoProcError);
  });

  it('gen_server_SUITE:start — init slower than the timeout option gives {error: timeout} and the server is killed', async () => {
    const node = testNode();
    const before = node.processCount;
    expect(await GenServer.start(node, suiteServer, 'default', { timeout: 1000 })).toMatchObject({ ok: expect.anything() });
    const r = await GenServer.start(node, suiteServer, 'hang', { timeout: 20, name: 'slow' });
    expect(r).toEqual({ error: 'timeout' });
    expect(node.processCount).toBe(before + 1);
    expect(node.whereis('slow')).toBeUndefined();
  });

  it('gen_server_SUITE:start — ignore and {stop} from init', async () => {
    const node = testNode();
    expect(await GenServer.start(node, suiteServer, 'ignore')).toBe('ignore');
    expect(await GenServer.start(node, suiteServer, 'stop')).toEqual({ error: 'stopped' });
    expect(node.processCount).toBe(0);
  });

  it('gen_server_SUITE:start — linked: {stop} from handleCall reaches the trapping starter as EXIT stopped', async () => {
    const node = testNode();
    const p = await probe(node, { trapExit: true });
    const pid = okPid(await GenServer.startLink(p.ctx, suiteServer, 'default'));
    expect(node.processInfo(pid)!.links.map(String)).toEqual([p.pid.toString()]);
    expect(await GenServer.call(p.ctx, pid, 'stop')).toBe('ok');
    expect(await p.next(isExitMessage)).toMatchObject({ from: pid, reason: 'stopped' });
  });

  it('gen_server_SUITE:start — startLink needs a process origin', async () => {
    const node = testNode();
    await expect(GenServer.startLink(node, suiteServer, 'default')).rejects.toBeInstanceOf(BadArgError);
  });

  it('gen_server_SUITE:start — local name: already_started, and freed after stop', async () => {
    const node = testNode();
    const p = await probe(node, { trapExit: true });
    const pid = okPid(await GenServer.startLink(p.ctx, suiteServer, 'default', { name: 'my_test_name' }));
    expect(await GenServer.call(node, 'my_test_name', 'started_p')).toBe('ok');
    expect(await GenServer.start(node, suiteServer, 'default', { name: 'my_test_name' })).toEqual({ error: { already_started: pid } });
    expect(await GenServer.call(node, 'my_test_name', 'stop')).toBe('ok');
    expect(await p.next(isExitMessage)).toMatchObject({ from: pid, reason: 'stopped' });
    await expect(GenServer.call(node, 'my_test_name', 'started_p', 10)).rejects.toBeInstanceOf(NoProcError);
  });

  it('gen_server_SUITE:start — via name: registered before init, already_started, call and stop through via', async () => {
    const node = testNode();
    const via = new TestVia(node);
    const name = { via, name: 'my_test_name' };
    const pid = okPid(await GenServer.start(node, suiteServer, 'default', { name }));
    expect(via.whereisName('my_test_name')).toEqual(pid);
    expect(await GenServer.call(node, name, 'started_p')).toBe('ok');
    expect(await GenServer.start(node, suiteServer, 'default', { name })).toEqual({ error: { already_started: pid } });
    expect(node.processCount).toBe(1); // the loser exited
    expect(await GenServer.call(node, name, 'stop')).toBe('ok');
    await expect(GenServer.call(node, pid, 'started_p', 10)).rejects.toBeInstanceOf(NoProcError);
  });

  it('gen_server_SUITE:start — startMonitor returns the monitor; the DOWN carries the exit reason', async () => {
    const node = testNode();
    const p = await probe(node);
    const r = await GenServer.startMonitor(p.ctx, suiteServer, 'default');
    if (!isStarted(r)) throw new Error('not started');
    expect(node.processInfo(r.ok)!.monitoredBy).toEqual([p.pid]);
    expect(node.processInfo(r.ok)!.links).toEqual([]);
    await GenServer.call(node, r.ok, 'stop');
    expect(await p.next(isDownMessage)).toMatchObject({ ref: r.monitor, object: r.ok, reason: 'stopped' });
  });

  it('gen_server_SUITE:loop_start_fail — every init failure, sync and async, for start/startLink/startMonitor; no EXIT or DOWN to the starter (OTP 26+)', async () => {
    const node = testNode();
    const p = await probe(node, { trapExit: true });
    const cases: [SuiteArgs, unknown][] = [
      ['ignore', 'ignore'],
      ['stop', { error: 'stopped' }],
      [{ error: 'why' }, { error: 'why' }],
      ['throw', { error: { error: expect.objectContaining({ message: 'init boom' }) } }],
      ['exit', { error: 'init_exit' }],
      ['bad', { error: { bad_return_value: 42 } }],
    ];
    for (let round = 0; round < 3; round++) {
      for (const [args, expected] of cases) {
        for (const a of [args, { async: args } as SuiteArgs]) {
          expect(await GenServer.start(p.ctx, suiteServer, a)).toEqual(expected);
          expect(await GenServer.startLink(p.ctx, suiteServer, a)).toEqual(expected);
          expect(await GenServer.startMonitor(p.ctx, suiteServer, a)).toEqual(expected);
        }
      }
    }
    expect(node.processCount).toBe(1); // only the probe
    expect(await p.none(undefined, 30)).toBe(true); // check_no_exit: no EXIT, no DOWN
  });

  it('gen_server_SUITE:otp_7669 — after ignore or {stop} from init the name (local or via) is not registered', async () => {
    const node = testNode();
    const via = new TestVia(node);
    for (let i = 0; i < 10; i++) {
      for (const args of ['ignore', 'stop', { async: 'stop' }] as SuiteArgs[]) {
        await GenServer.start(node, suiteServer, args, { name: 'otp_7669' });
        expect(node.whereis('otp_7669')).toBeUndefined();
        await GenServer.start(node, suiteServer, args, { name: { via, name: 'otp_7669' } });
        expect(via.whereisName('otp_7669')).toBeUndefined();
      }
    }
  });
});

describe('GenServer stop', () => {
  it('gen_server_SUITE:stop1 — anonymous, reason normal: resolves after terminate; stopping again is noproc', async () => {
    const node = testNode();
    const p = await probe(node);
    const pid = okPid(await GenServer.start(node, suiteServer, { notify: p.pid }));
    await GenServer.stop(node, pid);
    expect(node.isAlive(pid)).toBe(false);
    expect(node.mailboxOf(p.pid)).toContainEqual({ server: pid, event: 'terminate', data: 'normal' }); // terminate ran before stop resolved
    await expect(GenServer.stop(node, pid)).rejects.toBeInstanceOf(NoProcError);
  });

  it('gen_server_SUITE:stop2 — anonymous, other reason: terminate and monitors see it', async () => {
    const node = testNode();
    const p = await probe(node);
    const pid = okPid(await GenServer.start(node, suiteServer, { notify: p.pid }));
    const ref = p.ctx.monitor(pid);
    await GenServer.stop(p.ctx, pid, 'other_reason', Infinity);
    expect(await p.next(isNote('terminate'))).toMatchObject({ data: 'other_reason' });
    expect(await p.next(isDownMessage)).toMatchObject({ ref, reason: 'other_reason' });
  });

  it('gen_server_SUITE:stop3 — an invalid timeout is rejected and the server keeps running', async () => {
    const node = testNode();
    const pid = okPid(await GenServer.start(node, suiteServer, 'default'));
    await expect(GenServer.stop(node, pid, 'other_reason', -1)).rejects.toBeInstanceOf(BadArgError);
    await expect(GenServer.stop(node, pid, 'other_reason', Number.NaN)).rejects.toBeInstanceOf(BadArgError);
    expect(node.isAlive(pid)).toBe(true);
    await GenServer.stop(node, pid);
    expect(node.isAlive(pid)).toBe(false);
  });

  it('gen_server_SUITE:stop4/stop5 — by local name and by { name, node } on this node', async () => {
    const node = testNode();
    let pid = okPid(await GenServer.start(node, suiteServer, 'default', { name: 'to_stop' }));
    await GenServer.stop(node, 'to_stop');
    expect(node.isAlive(pid)).toBe(false);
    await expect(GenServer.stop(node, 'to_stop')).rejects.toBeInstanceOf(NoProcError);
    pid = okPid(await GenServer.start(node, suiteServer, 'default', { name: 'to_stop' }));
    await GenServer.stop(node, { name: 'to_stop', node: node.name });
    expect(node.isAlive(pid)).toBe(false);
    await expect(GenServer.stop(node, { name: 'to_stop', node: node.name })).rejects.toBeInstanceOf(NoProcError);
  });

  it('gen_server_SUITE:stop7 — by via name', async () => {
    const node = testNode();
    const via = new TestVia(node);
    const pid = okPid(await GenServer.start(node, suiteServer, 'default', { name: { via, name: 'to_stop' } }));
    await GenServer.stop(node, { via, name: 'to_stop' });
    expect(node.isAlive(pid)).toBe(false);
    await expect(GenServer.stop(node, { via, name: 'to_stop' })).rejects.toBeInstanceOf(NoProcError);
  });

  it('gen_server_SUITE:stop — a throwing terminate becomes the exit reason and stop rejects with it', async () => {
    const node = testNode();
    const pid = okPid(
      await GenServer.start(
        node,
        {
          init: () => ({ ok: null }),
          terminate() {
            throw new Error('terminate boom');
          },
        },
        undefined,
      ),
    );
    const err = await GenServer.stop(node, pid).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CallExitError);
    expect((err as CallExitError).reason).toMatchObject({ error: { message: 'terminate boom' } });
  });

  it('gen_server_SUITE:stop — async terminate finishes before stop resolves', async () => {
    const node = testNode();
    const steps: string[] = [];
    const pid = okPid(
      await GenServer.start(
        node,
        {
          init: () => ({ ok: null }),
          async terminate(reason) {
            await Promise.resolve();
            steps.push(`terminate ${String(reason)}`);
          },
        },
        undefined,
      ),
    );
    await GenServer.stop(node, pid, 'shutdown');
    steps.push('stopped');
    expect(steps).toEqual(['terminate shutdown', 'stopped']);
    expect(node.isAlive(pid)).toBe(false);
  });
});
