import { BadArgError, type Node } from '@troupe/actor-core';
import type { ChildBehaviour } from './types.js';

/**
 * Child behaviours per node: a spec names one, and whichever node the hash
 * picks resolves the name locally (as Erlang resolves a module name on the
 * node that runs it: code is not shipped between nodes). Kept beside the node, not in it: actor-core knows nothing
 * of distributed supervisors.
 */
const tables = new WeakMap<Node, Map<string, ChildBehaviour<never, unknown>>>();

export function registerBehaviour<Args, H>(node: Node, name: string, behaviour: ChildBehaviour<Args, H>): void {
  if (typeof name !== 'string' || name.length === 0) throw new BadArgError('registerBehaviour: a name must be a non-empty string');
  if (typeof behaviour !== 'object' || behaviour === null || typeof behaviour.start !== 'function') {
    throw new BadArgError(`registerBehaviour: '${name}' needs an object with a start(sup, args, info) function`);
  }
  let t = tables.get(node);
  if (t === undefined) tables.set(node, (t = new Map()));
  t.set(name, behaviour as unknown as ChildBehaviour<never, unknown>);
}

export function behaviourOf(node: Node, name: string): ChildBehaviour<unknown, unknown> | undefined {
  return tables.get(node)?.get(name) as ChildBehaviour<unknown, unknown> | undefined;
}

export function behaviourNames(node: Node): string[] {
  return [...(tables.get(node)?.keys() ?? [])];
}
