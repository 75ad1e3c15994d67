import { BadArgError, type Node } from '@troupe/actor-core';
import { ProcessGroups } from '../pg/process-groups.js';
import { serviceKey } from '../sync/envelope.js';
import type { ReplicaTiming } from '../sync/replica.js';
import { AutoMembers } from './auto.js';
import { ParticipationMembers } from './participation.js';
import type { MemberSource, MembersMode } from './types.js';

/** How a cluster service picks its members. */
export interface MembershipOptions {
  /** Default `participation`: only nodes running this service (see the README). */
  members?: MembersMode;
  /**
   * Narrows membership to nodes started with the same partition (fixed for
   * the service's life). Needs `members: 'participation'`.
   */
  partition?: string;
  /** The pg scope that tracks participation (default `troupe_members`); every node running a service runs it. */
  membershipScope?: string;
}

export const MEMBERSHIP_SCOPE = 'troupe_members';

/** The service key and member source for a service instance; starts the membership scope if needed. */
export async function resolveMembership(
  node: Node,
  kind: string,
  name: string,
  opts: MembershipOptions,
  timing: ReplicaTiming,
): Promise<{ service: string; source: MemberSource }> {
  const mode = opts.members ?? 'participation';
  if (mode !== 'auto' && mode !== 'participation') throw new BadArgError(`${kind} ${name}: members must be 'auto' or 'participation', got ${String(mode)}`);
  if (opts.partition !== undefined && (typeof opts.partition !== 'string' || opts.partition.length === 0)) {
    throw new BadArgError(`${kind} ${name}: partition must be a non-empty string`);
  }
  if (opts.partition !== undefined && mode !== 'participation') {
    throw new BadArgError(`${kind} ${name}: partition needs members: 'participation' (auto membership spans every visible node)`);
  }
  const service = serviceKey(kind, name, opts.partition);
  if (mode === 'auto') return { service, source: new AutoMembers() };
  const pg = await ProcessGroups.ensure(node, opts.membershipScope ?? MEMBERSHIP_SCOPE, timing);
  // Participation is read from this scope: its initial sync must be done first.
  await pg.whenReady();
  return { service, source: new ParticipationMembers(pg, service) };
}
