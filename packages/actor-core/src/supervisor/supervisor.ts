import type { Pid } from '../pid.js';
import type { ExitReason } from '../exit-reason.js';
import type { Origin, StartResult } from '../start-result.js';
import type { Dest, ProcessContext } from '../types.js';
import type { Node } from '../node.js';
import {
  isSpecProblem,
  resolveChildSpecs,
  resolveFlags,
  type ChildSpec,
  type ResolvedChildSpec,
  type SpecProblem,
  type SupervisorFlags,
} from './child-spec.js';
import { SupervisorProcess, type ChildCounts, type ChildInfo } from './supervisor-process.js';
import { launch } from './launch.js';
import { stopSup, supCall } from './call.js';
import { nodeOf } from '../start-result.js';

export interface SupervisorOptions {
  /** Register the supervisor under this local name; if taken, start returns `{ error: { already_started: pid } }`. */
  name?: string;
}

/** A started child: OTP's `{ok, Pid}` / `{ok, Pid, Info}`, or `{ ok: undefined }` when its start returned `ignore`. */
export type ChildStarted = { ok: Pid; info?: unknown } | { ok: undefined };

/**
 * `startChild` failures: `already_started` (the id runs), `already_present`
 * (the id is held but stopped), `{ start_spec: SpecProblem }` (invalid spec),
 * or whatever `{ error }` the child's start returned (a throw becomes its exit reason).
 */
export type StartChildResult = ChildStarted | { error: { already_started: Pid } | 'already_present' | { start_spec: SpecProblem } | unknown };
export type TerminateChildResult = 'ok' | { error: 'not_found' };
export type RestartChildResult = ChildStarted | { error: 'not_found' | 'running' | 'restarting' | unknown };
export type DeleteChildResult = 'ok' | { error: 'not_found' | 'running' | 'restarting' };

/**
 * Why `Supervisor.start` failed:
 * - `{ supervisor_data: SpecProblem }`: invalid flags (OTP's `{supervisor_data, ...}`);
 * - `{ start_spec: SpecProblem }`: an invalid child spec or duplicate id;
 * - `{ shutdown: { failed_to_start_child: id, reason } }`: a child's start failed
 *   (the ones already started were stopped, newest first);
 * - `{ already_started: pid }`: the name is taken.
 */
export type SupervisorStartError =
  | { supervisor_data: SpecProblem }
  | { start_spec: SpecProblem }
  | { shutdown: { failed_to_start_child: string; reason: unknown } }
  | { already_started: Pid };

function begin(
  node: Node,
  linkFrom: ProcessContext | null,
  flags: SupervisorFlags,
  children: readonly ChildSpec[],
  opts: SupervisorOptions | undefined,
): Promise<StartResult> {
  const f = resolveFlags(flags);
  if (isSpecProblem(f)) return Promise.resolve({ error: { supervisor_data: f } });
  const specs = resolveChildSpecs(children, f);
  if (isSpecProblem(specs)) return Promise.resolve({ error: { start_spec: specs } });
  const parent = linkFrom?.self;
  return launch(node, linkFrom, opts?.name, 'supervisor', (ctx, ack) => new SupervisorProcess(ctx, f, parent).run(specs, ack));
}

/**
 * OTP's `supervisor`, with flags and child specs given directly. Every
 * query is a call through the node's call path; calling a supervisor that
 * does not exist rejects with `NoProcError`.
 */
export const Supervisor = {
  /**
   * Starts an unlinked supervisor; resolves after every child started, in
   * order. Errors: see `SupervisorStartError`. On `failed_to_start_child` the
   * supervisor process exits with that reason, as in OTP.
   */
  start(origin: Origin, flags: SupervisorFlags, children: readonly ChildSpec[], opts?: SupervisorOptions): Promise<StartResult> {
    return begin(nodeOf(origin), null, flags, children, opts);
  },

  /**
   * Like `start`, linked to `ctx` (atomically, before init): `ctx` becomes the
   * parent, whose exit signal stops the supervisor (children first, newest first).
   * Pass the parent supervisor's ctx from a child spec's `start`.
   */
  startLink(ctx: ProcessContext, flags: SupervisorFlags, children: readonly ChildSpec[], opts?: SupervisorOptions): Promise<StartResult> {
    return begin(ctx.node, ctx, flags, children, opts);
  },

  /** Children, newest first; `pid` is `'restarting'` while a failed restart is being retried. */
  whichChildren(origin: Origin, sup: Dest): Promise<ChildInfo[]> {
    return supCall(origin, sup, { $sup: 'which_children' });
  },

  countChildren(origin: Origin, sup: Dest): Promise<ChildCounts> {
    return supCall(origin, sup, { $sup: 'count_children' });
  },

  /** Adds a child spec and starts it (after the existing children in start order). */
  startChild(origin: Origin, sup: Dest, spec: ChildSpec): Promise<StartChildResult> {
    return supCall(origin, sup, { $sup: 'start_child', spec });
  },

  /** Stops a child and keeps its spec (a temporary child's spec is dropped). Idempotent. */
  terminateChild(origin: Origin, sup: Dest, id: string): Promise<TerminateChildResult> {
    return supCall(origin, sup, { $sup: 'terminate_child', id });
  },

  /** Starts a stopped child again from its spec. */
  restartChild(origin: Origin, sup: Dest, id: string): Promise<RestartChildResult> {
    return supCall(origin, sup, { $sup: 'restart_child', id });
  },

  /** Drops the spec of a stopped child. */
  deleteChild(origin: Origin, sup: Dest, id: string): Promise<DeleteChildResult> {
    return supCall(origin, sup, { $sup: 'delete_child', id });
  },

  getChildSpec(origin: Origin, sup: Dest, id: string): Promise<ResolvedChildSpec | { error: 'not_found' }> {
    return supCall(origin, sup, { $sup: 'get_child_spec', id });
  },

  /**
   * Stops the supervisor (children newest first) and resolves once it has
   * exited with `reason` (default `normal`). Rejects with `NoProcError` if it does not exist.
   */
  stop(origin: Origin, sup: Dest, reason: ExitReason = 'normal'): Promise<void> {
    return stopSup(origin, sup, reason);
  },
};

export type { ChildInfo, ChildCounts };
