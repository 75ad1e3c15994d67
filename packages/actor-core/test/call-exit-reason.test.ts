import { describe, expect, it } from 'vitest';
import { exitOf, nodesPerTest } from './helpers.js';
import { GenServer, isShutdown, type Node, type Pid } from '../src/index.js';

/**
 * Rule (erl, OTP 25: `{timeout, {gen_server, call, [Server, Request, Timeout]}}`):
 * a process that dies of a call failure it did not catch exits with
 * `{ [kind]: { call: { server, request, timeoutMs } } }` — the kind
 * (`timeout`, `noproc`, `calling_self`, `nodedown`), or for a server that
 * exited, `{ exit: { reason, call } }` (`{ shutdown: { call } }` when it shut
 * down, a shutdown reason as in OTP).
 */

const node = nodesPerTest();

async function server(n: Node, onCall: 'never' | 'crash' | 'shutdown'): Promise<Pid> {
  const r = await GenServer.start(n, {
    init: () => ({ ok: null }),
    handleCall: (_r: unknown, _f, s: null) => {
      if (onCall === 'crash') throw new Error('boom');
      if (onCall === 'shutdown') return { stop: 'shutdown', state: s };
      return { noreply: s };
    },
  }, undefined);
  return (r as { ok: Pid }).ok;
}

describe('exit reason of an uncaught call failure', () => {
  it('gen_server_SUITE:call rule — uncaught timeout: { timeout: { call: { server, request, timeoutMs } } }', async () => {
    const n = node();
    const srv = await server(n, 'never');
    const pid = n.spawn(async (ctx) => void (await ctx.call(srv, 'hello', 20)));
    expect(await exitOf(n, pid)).toEqual({ timeout: { call: { server: srv, request: 'hello', timeoutMs: 20 } } });
  });

  it('gen_server_SUITE:start rule — uncaught noproc and calling_self carry the call', async () => {
    const n = node();
    const pid = n.spawn(async (ctx) => void (await GenServer.call(ctx, 'nobody', { q: 1 })));
    expect(await exitOf(n, pid)).toEqual({ noproc: { call: { server: 'nobody', request: { q: 1 }, timeoutMs: 5000 } } });
    const me = n.spawn(async (ctx) => void (await ctx.call(ctx.self, 'me', 100)));
    expect(await exitOf(n, me)).toEqual({ calling_self: { call: { server: me, request: 'me', timeoutMs: 100 } } });
  });

  it('gen_server_SUITE:crash rule — the server’s exit reason is carried; a shutdown stays a shutdown', async () => {
    const n = node();
    const crashing = await server(n, 'crash');
    const a = n.spawn(async (ctx) => void (await ctx.call(crashing, 'x', 1000)));
    const ra = await exitOf(n, a);
    expect(ra).toMatchObject({ exit: { reason: { error: { message: 'boom' } }, call: { server: crashing, request: 'x' } } });
    const stopping = await server(n, 'shutdown');
    const b = n.spawn(async (ctx) => void (await ctx.call(stopping, 'y', 1000)));
    const rb = await exitOf(n, b);
    expect(rb).toEqual({ shutdown: { call: { server: stopping, request: 'y', timeoutMs: 1000 } } });
    expect(isShutdown(rb)).toBe(true);
  });
});
