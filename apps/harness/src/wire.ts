/**
 * Values crossing the IPC channel between a test and its node processes.
 * IPC uses JSON, so pids, refs, errors, `undefined` and binary data are
 * tagged on the way out and rebuilt on the way in (a Pid must come back as
 * a real `Pid`, or `monitor`/`send` on it would not route).
 */
import { Pid, Ref } from '@troupe/actor-core';

/** A JSON value as it travels over IPC. */
export type WireValue = null | boolean | number | string | WireValue[] | { [k: string]: WireValue };

/** What an error looks like after crossing IPC. */
export interface WireError {
  name: string;
  message: string;
  code?: string;
  /** Extra enumerable fields (e.g. `reason` of a HandshakeError, `node` of a NodeDownError). */
  data?: Record<string, unknown>;
}

/** An error thrown in a node process, rebuilt in the test process with the original name and code. */
export class RemoteError extends Error {
  readonly code: string | undefined;
  readonly data: Record<string, unknown>;
  constructor(e: WireError) {
    super(e.message);
    this.name = e.name;
    this.code = e.code;
    this.data = e.data ?? {};
  }
}

const TAG = '$w';

export function toWire(v: unknown, depth = 0): WireValue {
  if (depth > 64) return '[too deep]';
  if (v === null) return null;
  switch (typeof v) {
    case 'undefined':
      return { [TAG]: 'u' };
    case 'number':
      return Number.isFinite(v) ? v : { [TAG]: 'n', v: String(v) };
    case 'bigint':
      return { [TAG]: 'b', v: v.toString() };
    case 'boolean':
    case 'string':
      return v;
    case 'function':
    case 'symbol':
      return { [TAG]: 's', v: String(v) };
  }
  if (v instanceof Pid) return { [TAG]: 'pid', n: v.node, i: v.id, c: v.creation };
  if (v instanceof Ref) return { [TAG]: 'ref', n: v.node, i: v.id, c: v.creation };
  if (v instanceof Error) return { [TAG]: 'err', e: errorToWire(v) as unknown as WireValue };
  if (v instanceof Uint8Array) return { [TAG]: 'bin', v: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  if (Array.isArray(v)) return v.map((x) => toWire(x, depth + 1));
  if (v instanceof Map) return { [TAG]: 'map', v: [...v].map(([k, x]) => [toWire(k, depth + 1), toWire(x, depth + 1)]) };
  if (v instanceof Set) return { [TAG]: 'set', v: [...v].map((x) => toWire(x, depth + 1)) };
  const out: { [k: string]: WireValue } = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = toWire(x, depth + 1);
  return out;
}

export function fromWire(v: WireValue): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(fromWire);
  const tag = v[TAG];
  if (typeof tag === 'string') {
    switch (tag) {
      case 'u':
        return undefined;
      case 'n':
        return Number(v.v);
      case 'b':
        return BigInt(v.v as string);
      case 's':
        return v.v;
      case 'pid':
        return new Pid(v.n as string, v.i as number, v.c as number);
      case 'ref':
        return new Ref(v.n as string, v.i as number, v.c as number);
      case 'err':
        return new RemoteError(v.e as unknown as WireError);
      case 'bin':
        return Buffer.from(v.v as string, 'base64');
      case 'map':
        return new Map((v.v as WireValue[][]).map(([k, x]) => [fromWire(k!), fromWire(x!)]));
      case 'set':
        return new Set((v.v as WireValue[]).map(fromWire));
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = fromWire(x);
  return out;
}

export function errorToWire(e: unknown): WireError {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e) };
  const data: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(e)) {
    if (k === 'code' || k === 'name' || k === 'message' || k === 'stack') continue;
    data[k] = x instanceof Pid || x instanceof Ref ? x.toString() : x;
  }
  const code = (e as { code?: unknown }).code;
  const out: WireError = { name: e.name, message: e.message };
  if (typeof code === 'string') out.code = code;
  if (Object.keys(data).length > 0) {
    try {
      out.data = JSON.parse(JSON.stringify(data)) as Record<string, unknown>;
    } catch {
      // A field that is not JSON (a cycle, a bigint): the name, code and message still cross.
    }
  }
  return out;
}
