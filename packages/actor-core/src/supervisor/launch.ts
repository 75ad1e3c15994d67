import type { Proc } from '../internal/process.js';
import { BadArgError } from '../errors.js';
import { exitedCall, originProc } from '../internal/origin.js';
import { reasonFromThrown } from '../exit-reason.js';
import type { Node } from '../node.js';
import type { StartResult } from '../start-result.js';
import type { ProcessContext } from '../types.js';

/** Reports the outcome of a supervisor's init to whoever is waiting in `start`; only the first call counts. */
export type Ack = (r: StartResult) => void;

/**
 * Spawns a trap-exit, process-style supervisor and resolves once its init
 * acks (OTP's `proc_lib:start_link`). If the process dies before acking
 * (killed during init), the result is `{ error: reason }`.
 */
export function launch(
  node: Node,
  linkFrom: ProcessContext | null,
  name: string | undefined,
  label: string,
  body: (ctx: ProcessContext, ack: Ack) => Promise<void>,
): Promise<StartResult> {
  if (linkFrom !== null && originProc(linkFrom) === undefined) return exitedCall(linkFrom);
  return new Promise<StartResult>((resolve) => {
    let settled = false;
    const ack: Ack = (r) => {
      if (settled) return;
      settled = true;
      resolve(r);
    };
    const fn = async (ctx: ProcessContext): Promise<void> => {
      // Death before the acknowledgement (killed, a parent's exit signal): the start fails with that reason.
      (ctx as Proc).onExit = (reason) => ack({ error: reason });
      await body(ctx, ack);
    };
    const opts = name === undefined ? { trapExit: true, label } : { trapExit: true, label, name };
    try {
      if (linkFrom !== null) linkFrom.spawnLink(fn, opts);
      else node.spawn(fn, opts);
    } catch (e) {
      const holder = name === undefined ? undefined : node.whereis(name);
      if (e instanceof BadArgError && holder !== undefined) ack({ error: { already_started: holder } });
      else ack({ error: reasonFromThrown(e) });
    }
  });
}

/** Parks a process-style body forever: used once its process has ended, so no more code runs for it. */
export function halt(): Promise<never> {
  return new Promise<never>(() => {});
}
