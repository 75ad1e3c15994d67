import type { Pid } from '../pid.js';
import type { ExitReason } from '../exit-reason.js';
import type { Origin, StartResult } from '../start-result.js';
import type { Dest, ProcessContext } from '../types.js';
import type { Node } from '../node.js';
import { isSpecProblem, problem, resolveFlags, type ChildSpec, type SpecProblem } from './child-spec.js';
import { DynamicSupervisorProcess, type DynamicChildInfo, type ResolvedDynamicFlags } from './dynamic-supervisor-process.js';
import type { ChildCounts } from './supervisor-process.js';
import { launch } from './launch.js';
import { stopSup, supCall } from './call.js';
import { nodeOf } from '../start-result.js';

export interface DynamicSupervisorFlags {
  /** `startChild` returns `{ error: 'max_children' }` once this many children exist. Default: no limit. */
  maxChildren?: number;
  /** Max restarts within `period`. Default 3 (Elixir's, not Erlang's 1). */
  intensity?: number;
  /** Seconds (> 0). Default 5. */
  period?: number;
  /** Passed to every child's `start` after the supervisor's ctx: `start(sup, ...extraArguments)`. */
  extraArguments?: readonly unknown[];
}

/** A child spec for a DynamicSupervisor: the id is optional and unused; `start` also gets the extra arguments. */
export interface DynamicChildSpec extends Omit<ChildSpec, 'id' | 'start' | 'significant'> {
  id?: string;
  start: (sup: ProcessContext, ...extraArguments: unknown[]) => StartResult | Promise<StartResult>;
}

/** `'ignore'` when the child's start ignored (Elixir's `:ignore`): nothing was added. */
export type DynamicStartChildResult = { ok: Pid; info?: unknown } | 'ignore' | { error: 'max_children' | { start_spec: SpecProblem } | unknown };

function resolveDynamicFlags(flags: DynamicSupervisorFlags | undefined): ResolvedDynamicFlags | SpecProblem {
  const f = flags ?? {};
  const base = resolveFlags({ intensity: f.intensity ?? 3, period: f.period ?? 5 });
  if (isSpecProblem(base)) return base;
  const max = f.maxChildren ?? Infinity;
  if (typeof max !== 'number' || !(max === Infinity || (Number.isInteger(max) && max >= 0))) {
    return problem('invalid_max_children', max, 'maxChildren must be an integer >= 0 (or Infinity)');
  }
  const extra = f.extraArguments ?? [];
  if (!Array.isArray(extra)) return problem('invalid_extra_arguments', extra, 'extraArguments must be an array');
  return { maxChildren: max, intensity: base.intensity, period: base.period, extraArguments: extra };
}

function begin(node: Node, linkFrom: ProcessContext | null, flags: DynamicSupervisorFlags | undefined, name: string | undefined): Promise<StartResult> {
  const f = resolveDynamicFlags(flags);
  if (isSpecProblem(f)) return Promise.resolve({ error: { supervisor_data: f } });
  const parent = linkFrom?.self;
  return launch(node, linkFrom, name, 'dynamic_supervisor', (ctx, ack) => new DynamicSupervisorProcess(ctx, f, parent).run(ack));
}

/**
 * Elixir's DynamicSupervisor: starts empty, children are added at run time
 * and addressed by pid; one_for_one only; on stop all children are shut
 * down concurrently.
 */
export const DynamicSupervisor = {
  start(origin: Origin, flags?: DynamicSupervisorFlags, opts?: { name?: string }): Promise<StartResult> {
    return begin(nodeOf(origin), null, flags, opts?.name);
  },

  /** Linked to `ctx`, its parent: the parent's exit signal stops it (children first). */
  startLink(ctx: ProcessContext, flags?: DynamicSupervisorFlags, opts?: { name?: string }): Promise<StartResult> {
    return begin(ctx.node, ctx, flags, opts?.name);
  },

  startChild(origin: Origin, sup: Dest, spec: DynamicChildSpec): Promise<DynamicStartChildResult> {
    return supCall(origin, sup, { $dsup: 'start_child', spec });
  },

  terminateChild(origin: Origin, sup: Dest, pid: Pid): Promise<'ok' | { error: 'not_found' }> {
    return supCall(origin, sup, { $dsup: 'terminate_child', pid });
  },

  whichChildren(origin: Origin, sup: Dest): Promise<DynamicChildInfo[]> {
    return supCall(origin, sup, { $dsup: 'which_children' });
  },

  countChildren(origin: Origin, sup: Dest): Promise<ChildCounts> {
    return supCall(origin, sup, { $dsup: 'count_children' });
  },

  stop(origin: Origin, sup: Dest, reason: ExitReason = 'normal'): Promise<void> {
    return stopSup(origin, sup, reason);
  },
};

export type { DynamicChildInfo };
