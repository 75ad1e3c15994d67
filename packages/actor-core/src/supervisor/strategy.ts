import { isNormalExit, type ExitReason } from '../exit-reason.js';
import type { AutoShutdown, RestartType, Strategy } from './child-spec.js';

/** What the pure decisions need to know about a child. */
export interface ChildView {
  readonly id: string;
  readonly restart: RestartType;
  readonly significant: boolean;
  /** Has a process or is being restarted (not stopped, not ignored). */
  readonly present: boolean;
  /** Has a live process right now. */
  readonly running: boolean;
}

/** What to do when a child exits by itself (not stopped by the supervisor). */
export type ExitAction =
  /** Leave it stopped; `remove` drops its spec (temporary children). */
  | { kind: 'ignore'; remove: boolean }
  /** Restart it according to the strategy (see `planRestart`); counts toward intensity. */
  | { kind: 'restart' }
  /** A significant child ended for good: stop everything and exit `shutdown` (OTP's auto_shutdown). */
  | { kind: 'auto_shutdown'; remove: boolean };

/** A group restart: stop `terminate` in that order, drop `remove`, then start `start` in order. */
export interface RestartPlan {
  readonly terminate: string[];
  readonly remove: string[];
  readonly start: string[];
}

/** Whether a child with this restart type is restarted after exiting with `reason`: permanent always, transient unless normal/shutdown, temporary never (OTP). */
export function shouldRestart(restart: RestartType, reason: ExitReason): boolean {
  if (restart === 'permanent') return true;
  if (restart === 'transient') return !isNormalExit(reason);
  return false;
}

/**
 * The decision for a child `id` that exited with `reason`. `children` is
 * in start order and still shows `id` as present.
 */
export function onChildExit(children: readonly ChildView[], id: string, reason: ExitReason, autoShutdown: AutoShutdown): ExitAction {
  const child = children.find((c) => c.id === id);
  if (child === undefined) return { kind: 'ignore', remove: false };
  if (shouldRestart(child.restart, reason)) return { kind: 'restart' };
  const remove = child.restart === 'temporary';
  if (child.significant && autoShutdown !== 'never') {
    if (autoShutdown === 'any_significant') return { kind: 'auto_shutdown', remove };
    const othersLeft = children.some((c) => c.id !== id && c.significant && c.present);
    if (!othersLeft) return { kind: 'auto_shutdown', remove };
  }
  return { kind: 'ignore', remove };
}

/**
 * Which children a restart of `id` touches (one_for_one: itself; one_for_all:
 * all; rest_for_one: it and those started after it, as in OTP). Bystanders are stopped
 * newest first; temporary bystanders are dropped, not restarted.
 */
export function planRestart(strategy: Strategy, children: readonly ChildView[], id: string): RestartPlan {
  const at = children.findIndex((c) => c.id === id);
  if (at < 0 || strategy === 'one_for_one') return { terminate: [], remove: [], start: at < 0 ? [] : [id] };
  const group = strategy === 'one_for_all' ? children : children.slice(at);
  const others = group.filter((c) => c.id !== id);
  return {
    terminate: others.filter((c) => c.running).map((c) => c.id).reverse(),
    remove: others.filter((c) => c.restart === 'temporary').map((c) => c.id),
    start: group.filter((c) => c.id === id || c.restart !== 'temporary').map((c) => c.id),
  };
}
