import { Pid } from '@troupe/actor-core';

/**
 * How replica servers address each other: a frame `{ $rc: service, from, m }`
 * sent to the peer's server pid, or to its local name on that node before
 * the pid is known. `$rc` keeps services (and partitions) apart even if a
 * frame is misaddressed; `from` is the sending server (its node and
 * incarnation are checked against the distribution layer).
 */
export interface Envelope {
  readonly $rc: string;
  readonly from: Pid;
  readonly m: unknown;
}

export function isEnvelope(x: unknown): x is Envelope {
  return typeof x === 'object' && x !== null && typeof (x as Envelope).$rc === 'string' && (x as Envelope).from instanceof Pid && 'm' in x;
}

/** The locally registered name of a service's replica server. */
export function serverName(service: string): string {
  return `troupe.replica:${service}`;
}

/** The service key: the partition is part of it, so partitions never address each other. */
export function serviceKey(kind: string, name: string, partition: string | undefined): string {
  return partition === undefined ? `${kind}:${name}` : `${kind}:${name}@${partition}`;
}
