import { randomUUID } from 'node:crypto';
import { BadArgError, Pid, Ref, type Node, type RestartType } from '@troupe/actor-core';
import { behaviourNames, behaviourOf } from './behaviours.js';
import type { DistChildSpec } from './types.js';

/** A spec as replicated: everything needed to start the child on any node. */
export interface WireSpec {
  readonly behaviour: string;
  readonly args: unknown;
  readonly restart: RestartType;
  readonly shutdown: number | 'brutal_kill';
  /** Registered in the supervisor's registry under the child id. */
  readonly named: boolean;
}

const RESTARTS: readonly string[] = ['permanent', 'transient', 'temporary'];
const MAX_DEPTH = 32;

/** Plain data only: what the codec carries and every node reads the same (no functions, no class instances). */
export function isPlainData(x: unknown, depth = 0): boolean {
  if (depth > MAX_DEPTH) return false;
  if (x === null || x === undefined || typeof x === 'boolean' || typeof x === 'string') return true;
  if (typeof x === 'number') return Number.isFinite(x);
  if (typeof x !== 'object') return false;
  if (x instanceof Pid || x instanceof Ref || x instanceof Uint8Array) return true;
  if (Array.isArray(x)) return x.every((v) => isPlainData(v, depth + 1));
  const proto = Object.getPrototypeOf(x) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  return Object.values(x).every((v) => isPlainData(v, depth + 1));
}

/** A valid child id: a non-empty string without NUL (NUL-prefixed keys are the supervisor's own). */
export function isChildId(x: unknown): x is string {
  return typeof x === 'string' && x.length > 0 && x.length <= 1024 && !x.includes('\u0000');
}

/**
 * Checks a spec where `startChild` is called; a mistake is the caller's,
 * so it throws `BadArgError` with what to fix (unknown behaviour first: the
 * usual slip).
 */
export function normalizeSpec(node: Node, spec: DistChildSpec, canName: boolean): { id: string; spec: WireSpec } {
  if (typeof spec !== 'object' || spec === null) throw new BadArgError('startChild: the spec must be an object');
  if (typeof spec.behaviour !== 'string' || behaviourOf(node, spec.behaviour) === undefined) {
    const known = behaviourNames(node);
    throw new BadArgError(
      `startChild: unknown behaviour '${String(spec.behaviour)}' on ${node.name}; register it on every node with DistributedSupervisor.registerBehaviour(node, name, behaviour)` +
        (known.length > 0 ? ` (registered here: ${known.join(', ')})` : ' (none registered here)'),
    );
  }
  if (spec.name !== undefined && !isChildId(spec.name)) throw new BadArgError('startChild: name must be a non-empty string without NUL');
  if (spec.name !== undefined && !canName) throw new BadArgError(`startChild: child '${spec.name}' has a name but the supervisor was started without a registry`);
  if (spec.id !== undefined && !isChildId(spec.id)) throw new BadArgError('startChild: id must be a non-empty string without NUL');
  if (spec.id !== undefined && spec.name !== undefined && spec.id !== spec.name) {
    throw new BadArgError(`startChild: a named child's id is its name ('${spec.name}'), got id '${spec.id}'`);
  }
  const restart = spec.restart ?? 'permanent';
  if (!RESTARTS.includes(restart)) throw new BadArgError(`startChild: restart must be permanent, transient or temporary, got ${String(restart)}`);
  const shutdown = spec.shutdown ?? 5000;
  if (shutdown !== 'brutal_kill' && !(typeof shutdown === 'number' && Number.isInteger(shutdown) && shutdown >= 0)) {
    throw new BadArgError(`startChild: shutdown must be an integer >= 0 or 'brutal_kill'`);
  }
  const args = spec.args ?? null;
  if (!isPlainData(args)) throw new BadArgError(`startChild: args of '${spec.behaviour}' must be plain data (they are replicated; no functions or class instances)`);
  const id = spec.name ?? spec.id ?? randomUUID();
  return { id, spec: { behaviour: spec.behaviour, args, restart, shutdown, named: spec.name !== undefined } };
}

export function isWireSpec(x: unknown): x is WireSpec {
  if (typeof x !== 'object' || x === null) return false;
  const s = x as WireSpec;
  return (
    typeof s.behaviour === 'string' &&
    RESTARTS.includes(s.restart) &&
    (s.shutdown === 'brutal_kill' || (typeof s.shutdown === 'number' && Number.isInteger(s.shutdown) && s.shutdown >= 0)) &&
    typeof s.named === 'boolean' &&
    'args' in s
  );
}
