// Events, snapshots and states are stored as msgpack, the mesh's encoding:
// importing @troupe/actor-core registers its Pid and Ref extensions on
// msgpackr's module-global table, so a stored pid decodes as a Pid again.
import { Packr } from 'msgpackr';
import { Pid, Ref } from '@troupe/actor-core';
import { DeserializationError, SerializationError } from '../errors.js';

const packr = new Packr({ useRecords: false, moreTypes: true, useBigIntExtension: true });

/**
 * msgpack silently turns a function into `undefined` and a Map into a plain
 * object; a durable value must read back as it was written, so anything that
 * would not is refused up front with the path to it.
 */
function check(v: unknown, path: string, depth: number): void {
  switch (typeof v) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return;
    case 'function':
      throw new SerializationError(path, 'a function');
    case 'symbol':
      throw new SerializationError(path, 'a symbol');
    default:
  }
  if (v === null || v instanceof Date || v instanceof Uint8Array || v instanceof Pid || v instanceof Ref) return;
  if (depth > 64) throw new SerializationError(path, 'a value nested deeper than 64 levels (a cycle?)');
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) check(v[i], `${path}[${i}]`, depth + 1);
    return;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) {
    const name = (v as { constructor?: { name?: string } }).constructor?.name ?? 'unknown';
    throw new SerializationError(path, `an instance of ${name}`);
  }
  for (const k in v as Record<string, unknown>) check((v as Record<string, unknown>)[k], `${path}.${k}`, depth + 1);
}

/** Checks and encodes one value; throws SerializationError for what would not read back the same. */
export function encode(v: unknown): Uint8Array {
  check(v, '$', 0);
  return packr.pack(v);
}

export function decode(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}

/** Decodes a stored record; a record that does not decode rejects DeserializationError naming it. */
export function decodeStored(id: string, seq: number, bytes: Uint8Array): unknown {
  try {
    return packr.unpack(bytes);
  } catch (e) {
    throw new DeserializationError(id, seq, e);
  }
}
