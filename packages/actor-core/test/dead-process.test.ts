import { describe, expect, it } from 'vitest';
import { exitOf, probe, recorder, nodesPerTest, until } from './helpers.js';
import { GenServer, TIMEOUT, type Node, type Pid, type ProcessContext } from '../src/index.js';

/**
 * Rule: once a process has exited, every operation through its context is
 * inert — sends, spawns, links, monitors, registrations, timers, casts and
 * exit signals reach nothing, calls reject at once — and an abandoned async
 * body can never again reach another process (OTP: no code runs after exit).
 */

const node = nodesPerTest();

const FENCE = Symbol('fence');

/**
 * Waits until a 0 ms timer set now has reached every recorder, then drops it:
 * timers fire in (due, start) order after what is already queued, so anything
 * the dead context sent or timed would have arrived before it. No time window.
 */
async function fence(n: Node, ...recs: { pid: Pid; msgs: unknown[] }[]): Promise<void> {
  for (const r of recs) n.sendAfter(0, r.pid, FENCE);
  await until(() => recs.every((r) => r.msgs.includes(FENCE)));
  for (const r of recs) r.msgs.splice(r.msgs.indexOf(FENCE), 1);
}

/** Everything a process context can do to others, from a context whose process is gone; returns the call's outcome. */
async function actAll(ctx: ProcessContext, target: Pid, victim: Pid): Promise<unknown> {
  const before = ctx.node.processCount;
  ctx.send(target, 'send');
  ctx.cast(target, 'cast');
  ctx.spawn(async () => void ctx.node.send(target, 'spawned'));
  ctx.spawnLink({ handle() {} });
  ctx.spawnMonitor({ handle() {} });
  ctx.link(victim);
  ctx.monitor(victim);
  ctx.exit(victim, 'kill');
  ctx.sendAfter(0, target, 'timer');
  ctx.startTimer(0, target, 'timer2');
  try {
    ctx.register('ghost');
  } catch {
    // a dead process cannot be registered (badarg): fine, as long as nothing is
  }
  GenServer.cast(ctx, target, 'gen-cast');
  const spawned = ctx.node.processCount - before;
  const call = await ctx.call(target, 'call', 1000).then(
    () => 'resolved',
    (e: Error & { code?: string }) => e.code,
  );
  const gcall = await GenServer.call(ctx, target, 'gcall', 1000).then(
    () => 'resolved',
    (e: Error & { code?: string }) => e.code,
  );
  return { spawned, call, gcall };
}

describe('a dead process does nothing (OTP: no code runs after the exit)', () => {
  it('process_SUITE:abnormal_suicide_exit rule — after ctx.exit(ctx.self, R) nothing the next lines do takes effect', async () => {
    const n = node();
    const rec = recorder(n);
    const victim = recorder(n, { trapExit: true });
    const out: unknown[] = [];
    const pid = n.spawn(async (ctx) => {
      ctx.exit(ctx.self, 'boom');
      out.push(await actAll(ctx, rec.pid, victim.pid));
    });
    expect(await exitOf(n, pid)).toBe('boom');
    await until(() => out.length === 1);
    expect(out[0]).toEqual({ spawned: 0, call: 'TROUPE_ERR_EXITED', gcall: 'TROUPE_ERR_EXITED' });
    await fence(n, rec, victim);
    expect(rec.msgs).toEqual([]);
    expect(victim.msgs).toEqual([]);
    expect(n.isAlive(victim.pid)).toBe(true);
    expect(n.whereis('ghost')).toBeUndefined();
  });

  it('process_SUITE:t_exit_2_other rule — a process killed while it awaits acts on nothing when its await resumes', async () => {
    const n = node();
    const rec = recorder(n);
    const victim = recorder(n, { trapExit: true });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const out: unknown[] = [];
    const pid = n.spawn(async (ctx) => {
      await gate;
      out.push(await actAll(ctx, rec.pid, victim.pid));
    });
    await until(() => n.processInfo(pid)?.status === 'suspended');
    n.exit(pid, 'kill');
    expect(n.isAlive(pid)).toBe(false);
    release();
    await until(() => out.length === 1);
    expect(out[0]).toEqual({ spawned: 0, call: 'TROUPE_ERR_EXITED', gcall: 'TROUPE_ERR_EXITED' });
    await fence(n, rec, victim);
    expect(rec.msgs).toEqual([]);
    expect(victim.msgs).toEqual([]);
  });

  it('gen_server_SUITE:call rule — a linked caller killed by the server’s exit runs no effective code after its caught call failure', async () => {
    const n = node();
    const p = await probe(n);
    const started = await GenServer.start(n, {
      init: () => ({ ok: null }),
      handleCall: () => {
        throw new Error('server crash');
      },
    }, undefined);
    if (!('ok' in (started as object))) throw new Error('start failed');
    const srv = (started as { ok: Pid }).ok;
    let resumed = false;
    const caller = n.spawn(async (ctx) => {
      ctx.link(srv);
      try {
        await ctx.call(srv, 'crash');
      } catch {
        resumed = true;
        ctx.send(p.pid, 'after the caught failure');
      }
    });
    const reason = await exitOf(n, caller);
    expect(reason).toMatchObject({ error: { message: 'server crash' } });
    await until(() => resumed);
    expect(await p.none((m) => m === 'after the caught failure', 50)).toBe(true);
  });

  it('rule — a dead process’s receive never resolves, even with a timeout (its body stays parked)', async () => {
    const n = node();
    let after = 'not reached';
    const pid = n.spawn(async (ctx) => {
      ctx.exit(ctx.self, 'gone');
      const m = await ctx.receive(undefined, { timeout: 5 });
      after = m === TIMEOUT ? 'timeout' : 'message';
    });
    await exitOf(n, pid);
    await new Promise((r) => setTimeout(r, 40));
    expect(after).toBe('not reached');
  });

  it('rule — a synchronous handler runs to its end (no preemption) but nothing it does after its exit takes effect', async () => {
    const n = node();
    const rec = recorder(n);
    let ranToEnd = false;
    const pid = n.spawn({
      handle(_m: unknown, ctx) {
        ctx.exit(ctx.self, 'bye');
        ctx.send(rec.pid, 'late');
        ctx.spawn(async () => void n.send(rec.pid, 'late child'));
        ranToEnd = true;
      },
    });
    const exited = exitOf(n, pid);
    const processes = n.processCount;
    n.send(pid, 'go');
    expect(await exited).toBe('bye');
    expect(ranToEnd).toBe(true);
    expect(n.processCount).toBe(processes - 1); // the handler's spawn started nothing
    await fence(n, rec);
    expect(rec.msgs).toEqual([]);
  });

  it('rule — GenServer.reply and supervisor calls through a dead context reach nothing', async () => {
    const n = node();
    let from: unknown = null;
    const started = await GenServer.start(n, {
      init: () => ({ ok: null }),
      handleCall: (_r: unknown, f) => {
        from = f;
        return { noreply: null };
      },
    }, undefined);
    const srv = (started as { ok: Pid }).ok;
    const answer = GenServer.call(n, srv, 'q', 200).then(
      (v) => v,
      (e: Error & { code?: string }) => e.code,
    );
    await until(() => from !== null);
    const pid = n.spawn(async (ctx) => {
      ctx.exit(ctx.self, 'gone');
      GenServer.reply(ctx, from as never, 'from a dead process');
    });
    await exitOf(n, pid);
    expect(await answer).toBe('TROUPE_ERR_CALL_TIMEOUT');
  });
});
