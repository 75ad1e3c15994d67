import { Packr, addExtension } from 'msgpackr';
import { Pid, Ref } from '../pid.js';
import { TroupeError } from '../errors.js';
import type { RemoteName } from '../types.js';
import type { Signal } from './signals.js';

/**
 * The wire codec for distribution signals: msgpack (msgpackr) with two
 * extension types, so a `Pid` or `Ref` anywhere inside a message, reason or
 * reply crosses nodes as itself.
 *
 * Extension types (msgpack application range 0..127; msgpackr itself uses
 * 0x42, 0x62, 0x65, 0x69, 0x70, 0x72, 0x73, 0x74, 0x78 and reserves 0x52):
 * - `0x20` Pid: `[creation u32 BE][id f64 BE][node utf-8]`
 * - `0x21` Ref: same layout.
 * A decoded Pid is always a fresh object (its process cache `p` is null), so
 * a pid from a peer never aliases a local process object.
 *
 * A signal is a positional array `[kind, ...fields]` (see `KIND`): no key
 * strings per frame. The codec is stateless, so a transport can use one
 * instance for every peer; `encodeMany` packs a batch into one frame (what
 * pays on the wire, node-performance.md §8).
 *
 * Differences from local sends (documented, not bugs): a `Map` arrives as a
 * plain object, functions become `undefined`, and a symbol,
 * a cycle or an out-of-range value cannot be sent (`CodecError`).
 */
export const PID_EXT = 0x20;
export const REF_EXT = 0x21;

const MAX_NODE_NAME = 255;

/** A frame could not be encoded or decoded. `code`: `TROUPE_ERR_ENCODE` or `TROUPE_ERR_DECODE`. */
export class CodecError extends TroupeError {
  constructor(code: 'TROUPE_ERR_ENCODE' | 'TROUPE_ERR_DECODE', message: string) {
    super(code, message);
  }
}

/**
 * Per node name, a reusable `[creation u32][id f64][name utf8]` buffer: a
 * batch names the same few nodes over and over, and msgpackr copies an
 * extension's bytes as soon as `pack` returns, so packing a pid or ref
 * neither allocates nor UTF-8 encodes. Bounded: cleared when full.
 */
const packBuffers = new Map<string, Buffer>();
const PACK_CACHE_MAX = 1024;

function packId(node: string, id: number, creation: number): Buffer {
  let b = packBuffers.get(node);
  if (b === undefined) {
    const name = Buffer.from(node, 'utf8');
    b = Buffer.alloc(12 + name.length);
    name.copy(b, 12);
    if (packBuffers.size >= PACK_CACHE_MAX) packBuffers.clear();
    packBuffers.set(node, b);
  }
  b.writeUInt32BE(creation >>> 0, 0);
  b.writeDoubleBE(id, 4);
  return b;
}

function unpackId(data: Uint8Array, what: string): [string, number, number] {
  if (data.length < 13 || data.length > 12 + MAX_NODE_NAME * 4) throw new CodecError('TROUPE_ERR_DECODE', `malformed ${what}: ${data.length} bytes`);
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const creation = b.readUInt32BE(0);
  const id = b.readDoubleBE(4);
  if (!Number.isSafeInteger(id) || id < 0) throw new CodecError('TROUPE_ERR_DECODE', `malformed ${what}: bad id`);
  return [b.toString('utf8', 12), id, creation];
}

// msgpackr's extension table is module-global: registering once covers every Packr.
addExtension({
  Class: Pid,
  type: PID_EXT,
  pack: (p: Pid) => packId(p.node, p.id, p.creation),
  unpack: (data: Uint8Array) => {
    const [node, id, creation] = unpackId(data, 'pid');
    return new Pid(node, id, creation);
  },
});
addExtension({
  Class: Ref,
  type: REF_EXT,
  pack: (r: Ref) => packId(r.node, r.id, r.creation),
  unpack: (data: Uint8Array) => {
    const [node, id, creation] = unpackId(data, 'ref');
    return new Ref(node, id, creation);
  },
});

/** Wire numbers of the signal kinds (the first element of a frame). Never renumber. */
export const KIND = {
  send: 0,
  send_name: 1,
  exit: 2,
  link: 3,
  unlink: 4,
  monitor: 5,
  demonitor: 6,
  down: 7,
  reply: 8,
  spawn_request: 9,
  spawn_reply: 10,
} as const satisfies Record<Signal['k'], number>;

export type DecodeResult = { ok: true; signal: Signal } | { ok: false; error: CodecError };
export type DecodeManyResult = { ok: true; signals: Signal[] } | { ok: false; error: CodecError };

function toTuple(s: Signal): unknown[] {
  switch (s.k) {
    case 'send': return [KIND.send, s.to, s.msg];
    case 'send_name': return [KIND.send_name, s.name, s.msg];
    case 'exit': return [KIND.exit, s.from, s.to, s.reason, s.link];
    case 'link': return [KIND.link, s.from, s.to];
    case 'unlink': return [KIND.unlink, s.from, s.to];
    case 'monitor': return [KIND.monitor, s.from, s.to, s.ref];
    case 'demonitor': return [KIND.demonitor, s.from, s.ref];
    case 'down': return [KIND.down, s.to, s.ref, s.object, s.reason];
    case 'reply': return [KIND.reply, s.tag, s.value];
    case 'spawn_request': return [KIND.spawn_request, s.ref, s.from, s.name, s.args, s.link, s.monitor];
    case 'spawn_reply': return [KIND.spawn_reply, s.ref, s.pid, s.error, s.message];
  }
}

const isStr = (x: unknown): x is string => typeof x === 'string';
const isPidOrNull = (x: unknown): x is Pid | null => x === null || x instanceof Pid;
const isStrOrNull = (x: unknown): x is string | null => x === null || typeof x === 'string';
const isRemoteName = (x: unknown): x is RemoteName =>
  typeof x === 'object' && x !== null && isStr((x as RemoteName).name) && isStr((x as RemoteName).node);

/** A decoded value as a `Signal`, or why it is not one. Checks every field a handler relies on. */
export function signalFromTuple(t: unknown): Signal | string {
  if (!Array.isArray(t) || t.length === 0 || typeof t[0] !== 'number') return 'not a signal frame';
  const n = t.length;
  switch (t[0]) {
    case KIND.send:
      if (n === 3 && t[1] instanceof Pid) return { k: 'send', to: t[1], msg: t[2] };
      break;
    case KIND.send_name:
      if (n === 3 && isStr(t[1])) return { k: 'send_name', name: t[1], msg: t[2] };
      break;
    case KIND.exit:
      if (n === 5 && t[1] instanceof Pid && t[2] instanceof Pid && typeof t[4] === 'boolean') return { k: 'exit', from: t[1], to: t[2], reason: t[3], link: t[4] };
      break;
    case KIND.link:
    case KIND.unlink:
      if (n === 3 && t[1] instanceof Pid && t[2] instanceof Pid) return { k: t[0] === KIND.link ? 'link' : 'unlink', from: t[1], to: t[2] };
      break;
    case KIND.monitor:
      if (n === 4 && isPidOrNull(t[1]) && (t[2] instanceof Pid || isStr(t[2])) && t[3] instanceof Ref) return { k: 'monitor', from: t[1], to: t[2], ref: t[3] };
      break;
    case KIND.demonitor:
      if (n === 3 && isPidOrNull(t[1]) && t[2] instanceof Ref) return { k: 'demonitor', from: t[1], ref: t[2] };
      break;
    case KIND.down:
      if (n === 5 && isPidOrNull(t[1]) && t[2] instanceof Ref && (t[3] instanceof Pid || isRemoteName(t[3]))) {
        const object = t[3] instanceof Pid ? t[3] : { name: t[3].name, node: t[3].node };
        return { k: 'down', to: t[1], ref: t[2], object, reason: t[4] };
      }
      break;
    case KIND.reply:
      if (n === 3 && Number.isSafeInteger(t[1])) return { k: 'reply', tag: t[1] as number, value: t[2] };
      break;
    case KIND.spawn_request:
      if (n === 7 && t[1] instanceof Ref && isPidOrNull(t[2]) && isStr(t[3]) && Array.isArray(t[4]) && typeof t[5] === 'boolean' && typeof t[6] === 'boolean') {
        return { k: 'spawn_request', ref: t[1], from: t[2], name: t[3], args: t[4], link: t[5], monitor: t[6] };
      }
      break;
    case KIND.spawn_reply:
      if (n === 5 && t[1] instanceof Ref && isPidOrNull(t[2]) && isStrOrNull(t[3]) && isStrOrNull(t[4])) return { k: 'spawn_reply', ref: t[1], pid: t[2], error: t[3], message: t[4] };
      break;
    default:
      return `unknown signal kind ${t[0]}`;
  }
  return `malformed signal of kind ${t[0]}`;
}

/**
 * Encodes and decodes `Signal`s (one per frame, or a batch per frame). Encode
 * throws `CodecError` only for an unencodable user payload; an unencodable
 * exit reason is replaced by an `{ error }` reason saying so, because exit and
 * DOWN signals come from the runtime and must not fail. Decode never throws.
 */
export class SignalCodec {
  private readonly packr: Packr;

  constructor() {
    // No records: standalone records cost more than plain maps (node-performance.md §7), and
    // per-stream (`sequential`) records would desync the peer if an encode failed half-way.
    // `moreTypes`: Set and Error survive; `useBigIntExtension`: any bigint does.
    this.packr = new Packr({ useRecords: false, moreTypes: true, useBigIntExtension: true });
  }

  encode(s: Signal): Buffer {
    return this.packValue(toTuple(s), s);
  }

  /** Several signals in one frame (for transports that coalesce per tick). */
  encodeMany(signals: readonly Signal[]): Buffer {
    const tuples = signals.map(toTuple);
    try {
      return this.packr.pack(tuples);
    } catch {
      // One by one, so a bad reason gets its fallback and a bad payload its error;
      // a msgpack array is its header followed by its encoded items.
      const parts = signals.map((s) => this.encode(s));
      const n = parts.length;
      const head = n < 16 ? Buffer.from([0x90 | n]) : n < 0x10000 ? Buffer.from([0xdc, n >> 8, n & 0xff]) : Buffer.from([0xdd, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
      return Buffer.concat([head, ...parts]);
    }
  }

  decode(bytes: Uint8Array): DecodeResult {
    const v = this.unpack(bytes);
    if (v instanceof CodecError) return { ok: false, error: v };
    const s = signalFromTuple(v);
    return typeof s === 'string' ? { ok: false, error: new CodecError('TROUPE_ERR_DECODE', s) } : { ok: true, signal: s };
  }

  decodeMany(bytes: Uint8Array): DecodeManyResult {
    const v = this.unpack(bytes);
    if (v instanceof CodecError) return { ok: false, error: v };
    if (!Array.isArray(v)) return { ok: false, error: new CodecError('TROUPE_ERR_DECODE', 'not a batch frame') };
    const out: Signal[] = new Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const s = signalFromTuple(v[i]);
      if (typeof s === 'string') return { ok: false, error: new CodecError('TROUPE_ERR_DECODE', `batch item ${i}: ${s}`) };
      out[i] = s;
    }
    return { ok: true, signals: out };
  }

  /** Any value with Pids/Refs (a message alone, for other uses of the same format). */
  encodeValue(v: unknown): Buffer {
    try {
      return this.packr.pack(v);
    } catch (e) {
      throw new CodecError('TROUPE_ERR_ENCODE', `cannot encode value: ${errText(e)}`);
    }
  }

  decodeValue(bytes: Uint8Array): { ok: true; value: unknown } | { ok: false; error: CodecError } {
    const v = this.unpack(bytes);
    return v instanceof CodecError ? { ok: false, error: v } : { ok: true, value: v };
  }

  private packValue(tuple: unknown[], s: Signal): Buffer {
    try {
      return this.packr.pack(tuple);
    } catch (e) {
      if (s.k === 'exit' || s.k === 'down') {
        const reason = { error: { name: 'CodecError', message: `exit reason could not be encoded: ${errText(e)}` } };
        return this.packr.pack(toTuple({ ...s, reason }));
      }
      throw new CodecError('TROUPE_ERR_ENCODE', `cannot encode ${s.k} signal: ${errText(e)} (messages must be msgpack-serializable)`);
    }
  }

  private unpack(bytes: Uint8Array): unknown {
    if (!(bytes instanceof Uint8Array)) return new CodecError('TROUPE_ERR_DECODE', 'frame is not bytes');
    if (bytes.length === 0) return new CodecError('TROUPE_ERR_DECODE', 'empty frame');
    try {
      return this.packr.unpack(bytes);
    } catch (e) {
      return new CodecError('TROUPE_ERR_DECODE', `malformed frame: ${errText(e)}`);
    }
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
