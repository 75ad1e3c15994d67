import { describe, expect, it } from 'vitest';
import { exitOf, probe, nodesPerTest } from './helpers.js';
import { GenServer, type Pid } from '../src/index.js';

/**
 * Rule (erl, OTP 25): a server started with `gen_server:start` (no link) is
 * its own parent. When it traps exits, an exit signal from itself runs
 * `terminate` with that reason and stops the server.
 */

const node = nodesPerTest();

describe('GenServer started without a link is its own parent', () => {
  it('gen_server_SUITE:start rule — a trapping unlinked server’s exit signal to itself runs terminate and stops it', async () => {
    const n = node();
    const p = await probe(n);
    const r = await GenServer.start(n, {
      init: (_a: undefined, ctx) => {
        ctx.trapExit(true);
        return { ok: null };
      },
      handleCall: (_req: unknown, _from, s: null, ctx) => {
        ctx.exit(ctx.self, 'boom');
        return { reply: 'ok', state: s };
      },
      handleInfo: (m: unknown, s: null) => {
        n.send(p.pid, { info: m });
        return { noreply: s };
      },
      terminate: (reason) => void n.send(p.pid, { terminate: reason }),
    }, undefined);
    const srv = (r as { ok: Pid }).ok;
    const exited = exitOf(n, srv);
    expect(await GenServer.call(n, srv, 'exit_self')).toBe('ok');
    expect(await exited).toBe('boom');
    expect(await p.next((m) => typeof m === 'object' && m !== null && 'terminate' in m)).toEqual({ terminate: 'boom' });
    expect(await p.none((m) => typeof m === 'object' && m !== null && 'info' in m, 30)).toBe(true);
  });

  it('gen_server_SUITE:start rule — startMonitor is also its own parent', async () => {
    const n = node();
    const p = await probe(n);
    const r = await GenServer.startMonitor(p.ctx, {
      init: (_a: undefined, ctx) => {
        ctx.trapExit(true);
        return { ok: null };
      },
      handleCast: (_req: unknown, s: null, ctx) => {
        ctx.exit(ctx.self, 'self-stop');
        return { noreply: s };
      },
      terminate: (reason) => void n.send(p.pid, { terminate: reason }),
    }, undefined);
    const srv = (r as { ok: Pid }).ok;
    GenServer.cast(n, srv, 'go');
    expect(await p.next((m) => typeof m === 'object' && m !== null && 'terminate' in m)).toEqual({ terminate: 'self-stop' });
  });
});
