import { GenServer, type Origin } from '@troupe/actor-core';
import type { ServerCall, SupervisorCore } from './supervisor-core.js';

/** The server process: a GenServer trapping exits whose state is the core. */
export const supervisorServer: GenServer<SupervisorCore, ServerCall, never, unknown, unknown, SupervisorCore> = {
  name: 'troupe.dsup',
  init(core, ctx) {
    ctx.trapExit(true);
    core.ctx = ctx;
    // One fate with the replica: without it no record can be kept; without us its records lie.
    ctx.link(core.replicaPid);
    return { ok: core };
  },
  async handleCall(req, from, core) {
    const r = await core.handleCall(req, from);
    return 'reply' in r ? { reply: r.reply, state: core } : { noreply: core };
  },
  async handleInfo(msg, core) {
    const stop = await core.handleInfo(msg);
    return stop === undefined ? { noreply: core } : { stop, state: core };
  },
  terminate(_reason, core) {
    core.terminate();
  },
};

export function supServerName(service: string): string {
  return `troupe.dsup:${service}`;
}

export function callServer(origin: Origin, dest: { name: string; node: string }, req: ServerCall, timeoutMs?: number): Promise<unknown> {
  return GenServer.call(origin, dest, req, timeoutMs);
}
