import type { ProcessContext } from '../types.js';
import type { StartResult } from '../start-result.js';

export type RestartType = 'permanent' | 'transient' | 'temporary';
/** `brutal_kill`: `exit(pid, 'kill')`; a number: ms to wait after `shutdown` before killing; `infinity`: wait forever. */
export type ShutdownSpec = 'brutal_kill' | number | 'infinity';
export type ChildType = 'worker' | 'supervisor';
export type Strategy = 'one_for_one' | 'one_for_all' | 'rest_for_one';
export type AutoShutdown = 'never' | 'any_significant' | 'all_significant';

/**
 * How to start a child: called inside the supervisor process with the
 * supervisor's context, so the child can link to it (`sup.spawnLink(...)`,
 * `GenServer.startLink(sup, ...)`). A throw counts as `{ error }`.
 */
export type ChildStart = (sup: ProcessContext) => StartResult | Promise<StartResult>;

/** OTP's child spec map. Defaults: `permanent`, shutdown 5000 (worker) / `infinity` (supervisor), `worker`, not significant. */
export interface ChildSpec {
  id: string;
  start: ChildStart;
  restart?: RestartType;
  shutdown?: ShutdownSpec;
  type?: ChildType;
  significant?: boolean;
}

/** A child spec with every default filled in (what `getChildSpec` returns). */
export interface ResolvedChildSpec {
  readonly id: string;
  readonly start: ChildStart;
  readonly restart: RestartType;
  readonly shutdown: ShutdownSpec;
  readonly type: ChildType;
  readonly significant: boolean;
}

/** Supervisor flags (OTP's `sup_flags()`); unknown keys are ignored, as in OTP. */
export interface SupervisorFlags {
  /** Default `one_for_one`. */
  strategy?: Strategy;
  /** Max restarts within `period`; an integer >= 0. Default 1. */
  intensity?: number;
  /** Seconds (> 0; fractions allowed, unlike OTP, so tests can use short windows). Default 5. */
  period?: number;
  /** Default `never`. */
  autoShutdown?: AutoShutdown;
}

export interface ResolvedFlags {
  readonly strategy: Strategy;
  readonly intensity: number;
  readonly period: number;
  readonly autoShutdown: AutoShutdown;
}

/**
 * Why a flag set or child spec was rejected: OTP's reason atom as `problem`,
 * the offending value, and a sentence for humans.
 */
export interface SpecProblem {
  readonly problem:
    | 'invalid_strategy'
    | 'invalid_intensity'
    | 'invalid_period'
    | 'invalid_auto_shutdown'
    | 'invalid_type'
    | 'invalid_max_children'
    | 'invalid_extra_arguments'
    | 'missing_id'
    | 'invalid_id'
    | 'missing_start'
    | 'invalid_start'
    | 'invalid_restart_type'
    | 'invalid_shutdown'
    | 'invalid_child_type'
    | 'invalid_significant'
    | 'duplicate_child_name'
    | 'bad_combination'
    | 'invalid_child_spec';
  readonly value?: unknown;
  readonly message: string;
}

const STRATEGIES: readonly string[] = ['one_for_one', 'one_for_all', 'rest_for_one'];
const AUTO: readonly string[] = ['never', 'any_significant', 'all_significant'];
const RESTARTS: readonly string[] = ['permanent', 'transient', 'temporary'];
const TYPES: readonly string[] = ['worker', 'supervisor'];

export function problem(p: SpecProblem['problem'], value: unknown, message: string): SpecProblem {
  return { problem: p, value, message };
}

/** Validates flags and fills in OTP's defaults. */
export function resolveFlags(flags: unknown): ResolvedFlags | SpecProblem {
  if (flags === undefined) flags = {};
  if (typeof flags !== 'object' || flags === null) return problem('invalid_type', flags, 'supervisor flags must be an object');
  const f = flags as Record<string, unknown>;
  const strategy = f['strategy'] ?? 'one_for_one';
  if (typeof strategy !== 'string' || !STRATEGIES.includes(strategy)) {
    return problem('invalid_strategy', strategy, `strategy must be one of ${STRATEGIES.join(', ')}`);
  }
  const intensity = f['intensity'] ?? 1;
  if (typeof intensity !== 'number' || !Number.isInteger(intensity) || intensity < 0) {
    return problem('invalid_intensity', intensity, 'intensity must be an integer >= 0');
  }
  const period = f['period'] ?? 5;
  if (typeof period !== 'number' || !Number.isFinite(period) || period <= 0) {
    return problem('invalid_period', period, 'period must be a finite number of seconds > 0');
  }
  const autoShutdown = f['autoShutdown'] ?? 'never';
  if (typeof autoShutdown !== 'string' || !AUTO.includes(autoShutdown)) {
    return problem('invalid_auto_shutdown', autoShutdown, `autoShutdown must be one of ${AUTO.join(', ')}`);
  }
  return { strategy: strategy as Strategy, intensity, period, autoShutdown: autoShutdown as AutoShutdown };
}

/**
 * Validates one child spec and fills in defaults. `needId` is false for
 * DynamicSupervisor children, whose ids are unused.
 */
export function resolveChildSpec(spec: unknown, needId = true): ResolvedChildSpec | SpecProblem {
  if (typeof spec !== 'object' || spec === null) return problem('invalid_child_spec', spec, 'a child spec must be an object { id, start, ... }');
  const s = spec as Record<string, unknown>;
  const id = s['id'];
  if (needId) {
    if (id === undefined) return problem('missing_id', undefined, 'child spec has no id');
    if (typeof id !== 'string') return problem('invalid_id', id, 'child spec id must be a string');
  }
  const start = s['start'];
  if (start === undefined) return problem('missing_start', undefined, `child spec ${describeId(id)} has no start function`);
  if (typeof start !== 'function') return problem('invalid_start', start, `child spec ${describeId(id)}: start must be a function (sup) => StartResult`);
  const restart = s['restart'] ?? 'permanent';
  if (typeof restart !== 'string' || !RESTARTS.includes(restart)) {
    return problem('invalid_restart_type', restart, `child spec ${describeId(id)}: restart must be one of ${RESTARTS.join(', ')}`);
  }
  const type = s['type'] ?? 'worker';
  if (typeof type !== 'string' || !TYPES.includes(type)) {
    return problem('invalid_child_type', type, `child spec ${describeId(id)}: type must be 'worker' or 'supervisor'`);
  }
  const shutdown = s['shutdown'] ?? (type === 'supervisor' ? 'infinity' : 5000);
  if (!(shutdown === 'brutal_kill' || shutdown === 'infinity' || (typeof shutdown === 'number' && Number.isInteger(shutdown) && shutdown >= 0))) {
    return problem('invalid_shutdown', shutdown, `child spec ${describeId(id)}: shutdown must be 'brutal_kill', 'infinity' or an integer of ms >= 0`);
  }
  const significant = s['significant'] ?? false;
  if (typeof significant !== 'boolean') {
    return problem('invalid_significant', significant, `child spec ${describeId(id)}: significant must be a boolean`);
  }
  if (significant && restart === 'permanent') {
    return problem('bad_combination', { restart, significant }, `child spec ${describeId(id)}: a significant child cannot be permanent (it would never end by itself)`);
  }
  return {
    id: typeof id === 'string' ? id : '',
    start: start as ChildStart,
    restart: restart as RestartType,
    shutdown: shutdown as ShutdownSpec,
    type: type as ChildType,
    significant,
  };
}

/** The checks that need the supervisor's flags: significant children need auto-shutdown. */
export function checkAgainstFlags(spec: ResolvedChildSpec, flags: ResolvedFlags): SpecProblem | null {
  if (spec.significant && flags.autoShutdown === 'never') {
    return problem('bad_combination', { autoShutdown: 'never', significant: true }, `child spec '${spec.id}': significant children need autoShutdown 'any_significant' or 'all_significant'`);
  }
  return null;
}

/** Validates a whole start list: every spec, then unique ids. */
export function resolveChildSpecs(specs: unknown, flags: ResolvedFlags): ResolvedChildSpec[] | SpecProblem {
  if (!Array.isArray(specs)) return problem('invalid_child_spec', specs, 'children must be an array of child specs');
  const out: ResolvedChildSpec[] = [];
  const seen = new Set<string>();
  for (const s of specs) {
    const r = resolveChildSpec(s);
    if (isSpecProblem(r)) return r;
    const bad = checkAgainstFlags(r, flags);
    if (bad !== null) return bad;
    if (seen.has(r.id)) return problem('duplicate_child_name', r.id, `two child specs have the id '${r.id}'`);
    seen.add(r.id);
    out.push(r);
  }
  return out;
}

export function isSpecProblem(x: unknown): x is SpecProblem {
  return typeof x === 'object' && x !== null && 'problem' in x && 'message' in x;
}

function describeId(id: unknown): string {
  return typeof id === 'string' ? `'${id}'` : '(no id)';
}
