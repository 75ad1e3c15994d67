import type { Pid, ProcessContext } from '@troupe/actor-core';

/**
 * `auto`: every visible node is a member (a node that does not run the
 * service stays `uninitialized`). `participation`: exactly the nodes that
 * run the service (tracked through a process group), optionally narrowed
 * by a partition.
 */
export type MembersMode = 'auto' | 'participation';

/**
 * `alive`: synced at least once (a placement target); `uninitialized`: a
 * member we have not synced with yet (or that does not run the service);
 * `dead`: went down or left.
 */
export type MemberStatus = 'alive' | 'uninitialized' | 'dead';

export interface MemberInfo {
  node: string;
  status: MemberStatus;
  /** This node. */
  self: boolean;
  /** The peer's replica server, once it has spoken. */
  server: Pid | null;
}

/** What a member source tells its replica. */
export interface MemberEvents {
  up(node: string): void;
  down(node: string, reason: string): void;
}

/**
 * Where a replica's sync neighbours come from. It runs inside the replica
 * server process: `start` sets up subscriptions, `handle` consumes the
 * messages they produce (true if it was one of them).
 */
export interface MemberSource {
  readonly mode: MembersMode;
  start(ctx: ProcessContext, events: MemberEvents): void;
  handle(msg: unknown, events: MemberEvents): boolean;
  /** Current member nodes other than this one. */
  nodes(): string[];
  stop?(ctx: ProcessContext): void;
}
