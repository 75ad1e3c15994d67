// @troupe/registry-crdt: the owner-authoritative delta-CRDT, process groups,
// scoped service membership, the cluster-wide Registry and PubSub.
// The engine itself and the replicas' wire messages: `@troupe/registry-crdt/engine`.
export { type SyncStats } from './crdt/stats.js';
export type { Diff } from './crdt/types.js';
export type { ValueCheck } from './crdt/validate.js';
export { Replica, type ReplicaOptions, type ReplicaTiming, type ReplicaStats } from './sync/replica.js';
export { type MembersMode, type MemberStatus, type MemberInfo, type MemberSource, type MemberEvents } from './membership/types.js';
export { AutoMembers } from './membership/auto.js';
export { ProcessGroups, isPgEvent, type PgEvent, type ScopeOptions } from './pg/process-groups.js';
export { NoLocalError, UnavailableError } from './errors.js';
export { ParticipationMembers } from './membership/participation.js';
export { resolveMembership, MEMBERSHIP_SCOPE, type MembershipOptions } from './membership/resolve.js';
export {
  Registry,
  isNameConflict,
  type RegistryOptions,
  type RegistryEntry,
  type RegisterResult,
  type Unavailable,
  type NameConflict,
} from './registry/registry.js';
export { compareClaims, winnerOf, type Claim, type ConflictRule } from './registry/conflict.js';
export { Hlc } from './registry/hlc.js';
export { PubSub, type PubSubOptions } from './pubsub/pubsub.js';
export { DistributedSupervisor, type DrainResult } from './supervisor/distributed-supervisor.js';
export { ChildRef, RefUnavailableError, type RefHealth, type DeliveryPolicy } from './supervisor/child-ref.js';
export {
  type ChildBehaviour,
  type StartInfo,
  type DistChildSpec,
  type DistributedSupervisorOptions,
  type DistStartChildResult,
  type DistChildInfo,
  type DistChildCounts,
  type PlacementStrategy,
} from './supervisor/types.js';
export { rendezvous, hrwScore, homeOf } from './supervisor/rendezvous.js';
