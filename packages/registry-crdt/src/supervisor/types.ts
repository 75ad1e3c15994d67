import type { Node, Pid, ProcessContext, RestartType, StartResult } from '@troupe/actor-core';
import type { MembershipOptions } from '../membership/resolve.js';
import type { ConflictRule } from '../registry/conflict.js';
import type { Registry } from '../registry/registry.js';
import type { ReplicaTiming } from '../sync/replica.js';

/** What a (re)started child is told. */
export interface StartInfo<H = unknown> {
  /** The stable child id (its placement key). */
  readonly id: string;
  /** State handed over by the previous home (graceful drain), else undefined. */
  readonly handoff: H | undefined;
  /** 0 for the first start; +1 on every take-over or hand-off to another node. */
  readonly generation: number;
  /** The node the child was taken over or handed over from, if any. */
  readonly from: string | undefined;
}

/**
 * A child behaviour, registered under the same name on every node
 * (`DistributedSupervisor.registerBehaviour`): specs name it, so no closure
 * ever crosses the wire and any node can (re)start any child.
 */
export interface ChildBehaviour<Args = unknown, H = unknown> {
  /**
   * Starts the child linked to `sup`, the local supervisor process, e.g.
   * `GenServer.startLink(sup, impl, args)`. `args` come from the replicated
   * spec (plain data).
   */
  start(sup: ProcessContext, args: Args, info: StartInfo<H>): StartResult | Promise<StartResult>;
  /**
   * Optional hand-off hook, run on the old home before a graceful move
   * (`drain`): returns plain data (at most `maxHandoffBytes` once encoded
   * is a good rule) that the next home gets as `info.handoff`.
   */
  handoff?(pid: Pid, node: Node): H | Promise<H>;
}

/** Placement: rank `nodes` for `key`, best first. Must be the same pure function on every node. */
export interface PlacementStrategy {
  rank(key: string, nodes: readonly string[]): string[];
}

/** A child to start somewhere in the cluster. */
export interface DistChildSpec<Args = unknown> {
  /** Name of a behaviour registered on every node. */
  behaviour: string;
  /** Plain data (no functions or class instances other than Pid/Ref): it is replicated. */
  args?: Args;
  /**
   * Stable child id, the placement key. Defaults to `name`, else a random
   * UUID. Never re-randomised on restart or take-over.
   */
  id?: string;
  /** Registers the child under this name in the supervisor's `registry` (the id defaults to it). */
  name?: string;
  /** As in actor-core. Default `permanent`. */
  restart?: RestartType;
  /** ms to wait after `shutdown` before `kill`, or `brutal_kill`. Default 5000. */
  shutdown?: number | 'brutal_kill';
}

export interface DistributedSupervisorOptions extends MembershipOptions, ReplicaTiming {
  /** Nodes sharing the name (and partition) form one supervisor. */
  name: string;
  /** Only `one_for_one` (each child is restarted alone, as DynamicSupervisor). */
  strategy?: 'one_for_one';
  /** Local restarts allowed within `period` before this node's instance gives up (default 3). */
  intensity?: number;
  /** Seconds (default 5). */
  period?: number;
  /** Default rendezvous (HRW) hashing over the `alive` members. */
  distribution?: 'rendezvous' | PlacementStrategy;
  /** Named children are registered here (its conflict rule then orders duplicates). */
  registry?: Registry;
  /** Duplicate rule for unnamed children (default `first`; a `registry`'s rule wins if set). */
  conflict?: ConflictRule;
  /**
   * An orphan (a lost or relinquished child) is started at once by the
   * first node of its ranking; the node ranked `r` steps in after
   * `r * orphanGraceMs` if nobody did (views can differ). Default 2000.
   */
  orphanGraceMs?: number;
  /** How long `drain` waits for its children to be adopted before leaving anyway (default 5000). */
  handoffTimeoutMs?: number;
}

export type DistStartChildResult =
  | { ok: Pid; node: string }
  | 'ignore'
  | { error: 'no_alive_members' | 'not_running' | { already_started: Pid; node: string } | { start_failed: unknown; node: string } | { unknown_behaviour: string; node: string } };

/** A running child, as the local replica sees it. */
export interface DistChildInfo {
  id: string;
  pid: Pid;
  node: string;
  behaviour: string;
  restart: RestartType;
  name: string | undefined;
  generation: number;
}

export interface DistChildCounts {
  /** Distinct child ids known (running or being handed over). */
  specs: number;
  /** Running children. */
  active: number;
  /** Running on this node. */
  local: number;
}
