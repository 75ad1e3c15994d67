import { isValidNodeName } from '@troupe/actor-core';
import { InvalidNodeNameError } from './errors.js';

/** Throws `InvalidNodeNameError` unless `name` follows actor-core's node-name rule (`isValidNodeName`). */
export function assertNodeName(name: unknown): asserts name is string {
  if (!isValidNodeName(name)) throw new InvalidNodeNameError(name);
}
