import { Pid } from '@troupe/actor-core';
import type { Entry } from '../crdt/types.js';
import { isWireSpec, type WireSpec } from './spec.js';

/**
 * A child record of a distributed supervisor, written only by the node hosting the
 * child, keyed by child id. It is a registry `Claim` (pid, meta, at, lc) so
 * the Registry's conflict rule orders duplicates. `st`: `run` while the
 * child runs there; `off` once relinquished by a graceful drain, carrying
 * the hand-off data `ho` until the next home's `run` record appears.
 */
export interface ChildRecord {
  readonly pid: Pid;
  readonly meta: WireSpec;
  /** Claim stamp (HLC) of this copy: set at its first start here, kept across local restarts. */
  readonly at: number;
  readonly lc: number;
  readonly st: 'run' | 'off';
  readonly gen: number;
  readonly ho?: unknown;
}

/** The entry a draining node writes first, so peers stop placing children on it. */
export interface DrainMarker {
  readonly drain: true;
}

export type SupValue = ChildRecord | DrainMarker;

export const DRAIN_KEY = '\u0000drain';

export function isRecord(v: SupValue): v is ChildRecord {
  return 'pid' in v;
}

export function isRunning(e: Entry<SupValue>): e is Entry<ChildRecord> {
  return isRecord(e.value) && e.value.st === 'run';
}

/** A peer's value, checked before the engine accepts it: its pids must be of the writing node. */
export function acceptSupValue(v: unknown, peer: string): boolean {
  if (typeof v !== 'object' || v === null) return false;
  if ('drain' in v) return (v as DrainMarker).drain === true;
  const r = v as ChildRecord;
  return (
    r.pid instanceof Pid &&
    r.pid.node === peer &&
    isWireSpec(r.meta) &&
    Number.isFinite(r.at) &&
    Number.isSafeInteger(r.lc) &&
    r.lc >= 0 &&
    (r.st === 'run' || r.st === 'off') &&
    Number.isSafeInteger(r.gen) &&
    r.gen >= 0
  );
}
