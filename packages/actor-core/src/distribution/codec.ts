import { Packr, addExtension } from 'msgpackr';
import { Pid, Ref } from '../pid.js';
import { TroupeError } from '../errors.js';
import { errText } from '../exit-reason.js';
import { CastEnvelope, ProtocolRequest } from '../internal/calls.js';
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
 * - `0x22` cast envelope, `0x23` protocol request: their content as msgpack.
 * A decoded Pid is always a fresh object (its process cache `p` is null), so
 * a pid from a peer never aliases a local process object.
 *
 * A frame is one msgpack array holding its signals back to back, each as
 * its kind (see `KIND`) followed by a fixed number of fields: no key strings
 * and no array per signal. A `send`/`call` target and a caller travel as
 * integers (their nodes are the connection's ends, `CodecEnds`); other pids
 * use the extension. The codec keeps no per-peer state, so a transport can
 * use one instance for every peer; `encodeMany` packs a batch into one frame
 * (one WebSocket message per batch is worth >10x over one per signal).
 *
 * Differences from local sends (documented, not bugs): a `Map` arrives as a
 * plain object, functions become `undefined`, and a symbol,
 * a cycle or an out-of-range value cannot be sent (`CodecError`).
 */
export const PID_EXT = 0x20;
export const REF_EXT = 0x21;
/** A cast's envelope: its request, as a msgpack value. */
export const CAST_EXT = 0x22;
/** A system or supervisor request (`ProtocolRequest`): its operation, as a msgpack value. */
export const PROTOCOL_EXT = 0x23;

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
// Protocol envelopes cross as their own types, so that a peer's user data
// (a plain map, whatever its keys) never decodes to one.
addExtension({
  Class: CastEnvelope,
  type: CAST_EXT,
  write: (c: CastEnvelope) => c.req,
  read: (req: unknown) => new CastEnvelope(req),
});
addExtension({
  Class: ProtocolRequest,
  type: PROTOCOL_EXT,
  write: (r: ProtocolRequest) => r.op,
  read: (op: unknown) => new ProtocolRequest(op),
});

/**
 * Only plain data crosses: msgpack's own types (nil, booleans, numbers,
 * strings, binary, arrays, maps as plain objects), `undefined`, bigint,
 * `Date` (the msgpack timestamp) and Troupe's Pid and Ref. msgpackr's other
 * extensions — `Error` (0x65), `Set` (0x73), `RegExp` (0x78), typed arrays
 * (0x74), structured-clone ids and pointers (0x69, 0x70: cycles) and
 * records (0x72) — are refused while a Troupe frame is decoded, so a peer
 * cannot make this node build anything else. The encoder never writes them
 * (`moreTypes` off: a Set is sent as an array, an Error as
 * `[name, message, cause]`, a RegExp as `[source, flags]`). msgpackr's
 * extension table is module-global, so the refusal is scoped to Troupe's
 * decodes (`strictDepth`); elsewhere in the process those types decode as
 * msgpackr always did.
 */
let strictDepth = 0;
const refuse = (type: number, what: string): never => {
  throw new Error(`extension 0x${type.toString(16)} (${what}) is not accepted from a peer`);
};
const nativeErrors: Record<string, ErrorConstructor | undefined> = {
  Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError,
};
// `read` extensions: msgpackr reads the next value and hands it over, so these
// reproduce msgpackr's own decoding for everyone but a Troupe decode.
addExtension({ type: 0x65, read: (d: [string, string, unknown]) => {
  if (strictDepth > 0) refuse(0x65, 'Error');
  const E = nativeErrors[d[0]];
  if (E !== undefined) return new E(d[1], { cause: d[2] });
  const e = new Error(d[1], { cause: d[2] });
  e.name = d[0];
  return e;
} } as never);
addExtension({ type: 0x73, read: (d: Iterable<unknown>) => (strictDepth > 0 ? refuse(0x73, 'Set') : new Set(d)) } as never);
addExtension({ type: 0x78, read: (d: [string, string]) => (strictDepth > 0 ? refuse(0x78, 'RegExp') : new RegExp(d[0], d[1])) } as never);
const TYPED = ['Int8', 'Uint8', 'Uint8Clamped', 'Int16', 'Uint16', 'Int32', 'Uint32', 'Float32', 'Float64', 'BigInt64', 'BigUint64'];
addExtension({ type: 0x74, unpack: (data: Uint8Array) => {
  if (strictDepth > 0) refuse(0x74, 'typed array');
  const buffer = Uint8Array.prototype.slice.call(data, 1).buffer;
  const name = TYPED[data[0]!];
  if (name === undefined) {
    if (data[0] === 16) return buffer;
    if (data[0] === 17) return new DataView(buffer);
    throw new Error(`could not find typed array for code ${data[0]}`);
  }
  const C = (globalThis as unknown as Record<string, new (b: ArrayBuffer) => unknown>)[`${name}Array`]!;
  return new C(buffer);
} } as never);

/**
 * How deep a value may nest (arrays and objects; a Pid, Ref or primitive is
 * not a level), on encode and on decode alike: a value the receiver would
 * refuse is not sent (`CodecError` for the sender; a reply that cannot be
 * sent fails its call at once), and one a peer sends deeper than this closes
 * its connection with `decode_error`.
 */
export const MAX_NESTING = 512;

/** Whether `v` nests deeper than `left` levels. Never recurses past the limit. */
function tooDeep(v: unknown, left: number): boolean {
  if (typeof v !== 'object' || v === null || v instanceof Pid || v instanceof Ref || v instanceof Uint8Array || v instanceof Date) return false;
  if (left === 0) return true;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (typeof x === 'object' && x !== null && tooDeep(x, left - 1)) return true;
    }
    return false;
  }
  for (const k in v) {
    const x = (v as Record<string, unknown>)[k];
    if (typeof x === 'object' && x !== null && tooDeep(x, left - 1)) return true;
  }
  return false;
}

/** An own `__proto__` key anywhere in `v` (msgpackr would rename it `__proto_` on decode). */
function hasProtoKey(v: unknown, left: number): boolean {
  if (typeof v !== 'object' || v === null || left === 0) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (hasProtoKey(v[i], left - 1)) return true;
    return false;
  }
  if (Object.prototype.hasOwnProperty.call(v, '__proto__')) return true;
  for (const k in v) if (hasProtoKey((v as Record<string, unknown>)[k], left - 1)) return true;
  return false;
}

/** `__proto__` as msgpackr writes a key (fixstr). */
const PROTO_KEY = Buffer.from([0xa9, ...Buffer.from('__proto__')]);

/**
 * Packs `v` checking the rules the receiver applies: nesting at most
 * `MAX_NESTING` (the frame's batch array is level 0), no `__proto__` key.
 * Both checks are skipped when the bytes cannot hold a violation (a value
 * `d` deep takes at least `d` bytes). Throws like `pack`.
 */
function packChecked(packr: Packr, v: unknown): Buffer {
  const b = packr.pack(v);
  if (b.length > MAX_NESTING && tooDeep(v, MAX_NESTING + 1)) throw new Error(`value nests deeper than ${MAX_NESTING} levels`);
  if (b.length >= PROTO_KEY.length && b.indexOf(PROTO_KEY) !== -1 && hasProtoKey(v, MAX_NESTING + 2)) {
    throw new Error('a `__proto__` key cannot be sent (it would not arrive as one)');
  }
  return b;
}

/** Wire numbers of the signal kinds (the first element of each signal in a frame). Never renumber. */
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
  /** A call to a pid; `call` to a registered name travels as `CALL_NAME`. */
  call: 11,
  reply_failed: 14,
} as const satisfies Record<Signal['k'], number>;
/** A `call` signal whose target is a name registered on the receiving node. */
export const CALL_NAME = 12;
/**
 * Consecutive sends to one process: `SEND_RUN, id, creation, count, msg × count`
 * (count ≥ 1). A stream to one process then costs its messages on the wire,
 * not three more values each: packing and unpacking are ~3× cheaper per message.
 */
export const SEND_RUN = 13;

/**
 * Who is at each end of a connection: what the wire leaves out. A `send` or
 * `call` target is always a process of the receiving node (`local`), and a
 * caller always one of the sending node (`peer`, incarnation `peerCreation`),
 * so their node names never travel.
 */
export interface CodecEnds {
  readonly local: string;
  readonly peer: string;
  readonly peerCreation: number;
}

export type DecodeResult = { ok: true; signal: Signal } | { ok: false; error: CodecError };
export type DecodeManyResult = { ok: true; signals: Signal[] } | { ok: false; error: CodecError };

/**
 * Appends `s` to the flat array `out` (kind, then its fields): a batch is one
 * msgpack array of every signal's fields back to back, so neither encoding
 * nor decoding allocates an array per signal. Pids in fixed positions that
 * the ends imply travel as plain integers.
 */
function flatten(s: Signal, out: unknown[]): void {
  switch (s.k) {
    case 'send': out.push(KIND.send, s.to.id, s.to.creation, s.msg); return;
    case 'call':
      if (typeof s.to === 'string') out.push(CALL_NAME, s.to, s.tag, s.from === null ? null : s.from.id, s.req);
      else out.push(KIND.call, s.to.id, s.to.creation, s.tag, s.from === null ? null : s.from.id, s.req);
      return;
    case 'reply': out.push(KIND.reply, s.tag, s.value); return;
    case 'reply_failed': out.push(KIND.reply_failed, s.tag, s.message); return;
    case 'send_name': out.push(KIND.send_name, s.name, s.msg); return;
    case 'exit': out.push(KIND.exit, s.from, s.to, s.reason, s.link); return;
    case 'link': out.push(KIND.link, s.from, s.to); return;
    case 'unlink': out.push(KIND.unlink, s.from, s.to); return;
    case 'monitor': out.push(KIND.monitor, s.from, s.to, s.ref); return;
    case 'demonitor': out.push(KIND.demonitor, s.from, s.ref); return;
    case 'down': out.push(KIND.down, s.to, s.ref, s.object, s.reason); return;
    case 'spawn_request': out.push(KIND.spawn_request, s.ref, s.from, s.name, s.args, s.link, s.monitor); return;
    case 'spawn_reply': out.push(KIND.spawn_reply, s.ref, s.pid, s.error, s.message); return;
  }
}

/** Fields after the kind, by wire kind (a `SEND_RUN` has 3 plus its count). */
const ARITY = [3, 2, 4, 2, 2, 3, 2, 4, 2, 6, 4, 5, 4, 3, 2] as const;

/**
 * The signals queued for one peer, kept flat (as `flatten` lays them out)
 * while processes send: a transport appends to it and `SignalCodec.encodeFrames`
 * packs it, so a send allocates no Signal object and consecutive sends to one
 * process share one `SEND_RUN` header.
 */
export class SignalBatch {
  /** @internal */
  flat: unknown[] = [];
  /** Signals queued (every message of a run counts). */
  size = 0;
  /** Where the trailing send or run starts, or -1 when the last item is something else. */
  private tail = -1;

  /** A `send` to the process `(id, creation)` of the peer. */
  send(id: number, creation: number, msg: unknown): void {
    const f = this.flat;
    const t = this.tail;
    this.size++;
    if (t >= 0 && f[t + 1] === id && f[t + 2] === creation) {
      if (f[t] === KIND.send) {
        const first = f[t + 3];
        f[t] = SEND_RUN;
        f[t + 3] = 2;
        f.push(first, msg);
      } else {
        f[t + 3] = (f[t + 3] as number) + 1;
        f.push(msg);
      }
      return;
    }
    this.tail = f.length;
    f.push(KIND.send, id, creation, msg);
  }

  add(s: Signal): void {
    if (s.k === 'send') return this.send(s.to.id, s.to.creation, s.msg);
    this.tail = -1;
    this.size++;
    flatten(s, this.flat);
  }

  /** Empties the batch (its array is reused). */
  clear(): void {
    this.flat.length = 0;
    this.size = 0;
    this.tail = -1;
  }
}

const KIND_NAME: string[] = [];
for (const [name, k] of Object.entries(KIND)) KIND_NAME[k] = name;
KIND_NAME[CALL_NAME] = 'call';
KIND_NAME[SEND_RUN] = 'send';
/** Where an exit or down signal carries its reason (offset from its kind). */
const REASON_AT: Readonly<Record<number, number>> = { [KIND.exit]: 3, [KIND.down]: 4 };

/** Calls `each` with every item of a flat batch as its own array; a run gives one `[send, id, creation, msg]` per message. */
function itemsOf(flat: readonly unknown[], each: (item: unknown[]) => void): void {
  let i = 0;
  while (i < flat.length) {
    const k = flat[i] as number;
    if (k === SEND_RUN) {
      const count = flat[i + 3] as number;
      for (let j = 0; j < count; j++) each([KIND.send, flat[i + 1], flat[i + 2], flat[i + 4 + j]]);
      i += 4 + count;
    } else {
      const end = i + 1 + ARITY[k]!;
      each(flat.slice(i, end));
      i = end;
    }
  }
}

const isStr = (x: unknown): x is string => typeof x === 'string';
const isPidOrNull = (x: unknown): x is Pid | null => x === null || x instanceof Pid;
const isStrOrNull = (x: unknown): x is string | null => x === null || typeof x === 'string';
const isRemoteName = (x: unknown): x is RemoteName =>
  typeof x === 'object' && x !== null && isStr((x as RemoteName).name) && isStr((x as RemoteName).node);
/** A process id or creation as it travels: a non-negative safe integer. */
const isId = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
const isIdOrNull = (x: unknown): x is number | null => x === null || isId(x);

/**
 * Reads the signals of a flat batch (see `flatten`), checking every field a
 * handler relies on, into `out`. With `sends` false, a `send` or `reply` is
 * checked but not built (a `DecodedFrame` hands it over without a Signal object).
 * Returns null, or why the frame is not a batch.
 */
function readFlat(v: unknown, ends: CodecEnds, out: Signal[], sends: boolean): string | null {
  if (!Array.isArray(v)) return 'not a batch frame';
  const n = v.length;
  const { local, peer, peerCreation } = ends;
  // Consecutive sends to one process share one decoded pid (pids are immutable).
  let lastTo: Pid | null = null;
  // NaN never equals anything: the first send is always checked.
  let lastId: unknown = NaN;
  let lastCr: unknown = NaN;
  let item = 0;
  let i = 0;
  while (i < n) {
    const k = v[i];
    if (typeof k !== 'number' || !(k >= 0 && k < ARITY.length) || (k | 0) !== k) return `item ${item}: unknown signal kind ${String(k)}`;
    const a = ARITY[k]!;
    if (i + a >= n) return `item ${item}: truncated signal of kind ${k}`;
    if (k === SEND_RUN) {
      const id = v[i + 1];
      const cr = v[i + 2];
      const count = v[i + 3];
      if (!isId(id) || !isId(cr) || !isId(count) || count === 0) return `item ${item}: malformed signal of kind ${k}`;
      if (i + 3 + count >= n) return `item ${item}: truncated signal of kind ${k}`;
      if (sends) {
        const to: Pid = lastTo !== null && lastTo.id === id && lastTo.creation === cr ? lastTo : new Pid(local, id, cr);
        lastTo = to;
        for (let j = 0; j < count; j++) out.push({ k: 'send', to, msg: v[i + 4 + j] });
      }
      item++;
      i += 4 + count;
      continue;
    }
    if (k === KIND.send && !sends) {
      const id = v[i + 1];
      const cr = v[i + 2];
      if (id !== lastId || cr !== lastCr) {
        if (!isId(id) || !isId(cr)) return `item ${item}: malformed signal of kind ${k}`;
        lastId = id;
        lastCr = cr;
      }
    } else if (k === KIND.reply && !sends) {
      if (!isId(v[i + 1])) return `item ${item}: malformed signal of kind ${k}`;
    } else if (k === KIND.call && !sends) {
      if (!isId(v[i + 1]) || !isId(v[i + 2]) || !isId(v[i + 3]) || !isIdOrNull(v[i + 4])) return `item ${item}: malformed signal of kind ${k}`;
    } else {
      const s = readOne(k, v, i + 1, local, peer, peerCreation, lastTo);
      if (s === null) return `item ${item}: malformed signal of kind ${k}`;
      if (k === KIND.send) lastTo = (s as { to: Pid }).to;
      out.push(s);
    }
    item++;
    i += a + 1;
  }
  return null;
}

/**
 * What a `DecodedFrame` hands its signals to, in order. Either returns false
 * to stop the frame (the rest is dropped).
 */
export interface FrameSink {
  /** A `send` to the process `(id, creation)` of the receiving node (`CodecEnds.local`). */
  send(id: number, creation: number, msg: unknown): boolean;
  /** A `reply` to the call `tag` of the receiving node. */
  reply(tag: number, value: unknown): boolean;
  /** A `call` to the process `(id, creation)` of the receiving node from the sender's process `from` (an id; null: no process). */
  call(id: number, creation: number, tag: number, from: number | null, req: unknown): boolean;
  /** Any other signal. */
  signal(s: Signal): boolean;
}

/**
 * A checked frame whose `send` and `reply` signals are kept as they came off
 * the wire: `forEach` hands a send over as `(id, creation, msg)` and a reply
 * as `(tag, value)`, without building a Signal or a Pid, in order with the
 * frame's other signals (per-pair FIFO).
 */
export class DecodedFrame {
  /** @internal */
  constructor(
    private readonly flat: unknown[],
    private readonly others: Signal[],
  ) {}

  forEach(sink: FrameSink): void {
    const t = this.flat;
    const others = this.others;
    const n = t.length;
    let j = 0;
    let i = 0;
    while (i < n) {
      const k = t[i] as number;
      if (k === KIND.send) {
        if (!sink.send(t[i + 1] as number, t[i + 2] as number, t[i + 3])) return;
        i += 4;
      } else if (k === SEND_RUN) {
        const id = t[i + 1] as number;
        const cr = t[i + 2] as number;
        const end = i + 4 + (t[i + 3] as number);
        for (let j = i + 4; j < end; j++) if (!sink.send(id, cr, t[j])) return;
        i = end;
      } else if (k === KIND.reply) {
        if (!sink.reply(t[i + 1] as number, t[i + 2])) return;
        i += 3;
      } else if (k === KIND.call) {
        if (!sink.call(t[i + 1] as number, t[i + 2] as number, t[i + 3] as number, t[i + 4] as number | null, t[i + 5])) return;
        i += 6;
      } else {
        if (!sink.signal(others[j++]!)) return;
        i += ARITY[k]! + 1;
      }
    }
  }
}

export type DecodeFrameResult = { ok: true; frame: DecodedFrame } | { ok: false; error: CodecError };

function readOne(k: number, t: unknown[], i: number, local: string, peer: string, peerCreation: number, lastTo: Pid | null): Signal | null {
  switch (k) {
    case KIND.send: {
      const id = t[i];
      const cr = t[i + 1];
      if (lastTo !== null && lastTo.id === id && lastTo.creation === cr) return { k: 'send', to: lastTo, msg: t[i + 2] };
      if (!isId(id) || !isId(cr)) return null;
      return { k: 'send', to: new Pid(local, id, cr), msg: t[i + 2] };
    }
    case KIND.call: {
      const [id, cr, tag, from] = [t[i], t[i + 1], t[i + 2], t[i + 3]];
      if (!isId(id) || !isId(cr) || !isId(tag) || !isIdOrNull(from)) return null;
      return { k: 'call', to: new Pid(local, id, cr), tag, from: from === null ? null : new Pid(peer, from, peerCreation), req: t[i + 4] };
    }
    case CALL_NAME: {
      const [name, tag, from] = [t[i], t[i + 1], t[i + 2]];
      if (!isStr(name) || !isId(tag) || !isIdOrNull(from)) return null;
      return { k: 'call', to: name, tag, from: from === null ? null : new Pid(peer, from, peerCreation), req: t[i + 3] };
    }
    case KIND.reply:
      return isId(t[i]) ? { k: 'reply', tag: t[i] as number, value: t[i + 1] } : null;
    case KIND.reply_failed:
      return isId(t[i]) && isStr(t[i + 1]) ? { k: 'reply_failed', tag: t[i] as number, message: t[i + 1] as string } : null;
    case KIND.send_name:
      return isStr(t[i]) ? { k: 'send_name', name: t[i] as string, msg: t[i + 1] } : null;
    case KIND.exit: {
      const [from, to, reason, link] = [t[i], t[i + 1], t[i + 2], t[i + 3]];
      return from instanceof Pid && to instanceof Pid && typeof link === 'boolean' ? { k: 'exit', from, to, reason, link } : null;
    }
    case KIND.link:
    case KIND.unlink: {
      const [from, to] = [t[i], t[i + 1]];
      if (!(from instanceof Pid && to instanceof Pid)) return null;
      return { k: k === KIND.link ? 'link' : 'unlink', from, to };
    }
    case KIND.monitor: {
      const [from, to, ref] = [t[i], t[i + 1], t[i + 2]];
      return isPidOrNull(from) && (to instanceof Pid || isStr(to)) && ref instanceof Ref ? { k: 'monitor', from, to, ref } : null;
    }
    case KIND.demonitor: {
      const [from, ref] = [t[i], t[i + 1]];
      return isPidOrNull(from) && ref instanceof Ref ? { k: 'demonitor', from, ref } : null;
    }
    case KIND.down: {
      const [to, ref, object, reason] = [t[i], t[i + 1], t[i + 2], t[i + 3]];
      if (!(isPidOrNull(to) && ref instanceof Ref && (object instanceof Pid || isRemoteName(object)))) return null;
      return { k: 'down', to, ref, object: object instanceof Pid ? object : { name: object.name, node: object.node }, reason };
    }
    case KIND.spawn_request: {
      const [ref, from, name, args, link, monitor] = [t[i], t[i + 1], t[i + 2], t[i + 3], t[i + 4], t[i + 5]];
      if (!(ref instanceof Ref && isPidOrNull(from) && isStr(name) && Array.isArray(args) && typeof link === 'boolean' && typeof monitor === 'boolean')) return null;
      return { k: 'spawn_request', ref, from, name, args, link, monitor };
    }
    case KIND.spawn_reply: {
      const [ref, pid, error, message] = [t[i], t[i + 1], t[i + 2], t[i + 3]];
      return ref instanceof Ref && isPidOrNull(pid) && isStrOrNull(error) && isStrOrNull(message) ? { k: 'spawn_reply', ref, pid, error, message } : null;
    }
  }
  return null;
}

/** Turns a `reply` item that cannot travel into a `reply_failed` for its tag (the caller fails at once); returns its packed size bound. */
function failReply(item: unknown[], message: string): number {
  const tag = item[1];
  const text = message.length > 500 ? `${message.slice(0, 500)}…` : message;
  item.length = 0;
  item.push(KIND.reply_failed, tag, text);
  return 600;
}

/**
 * Encodes and decodes `Signal`s (one per frame, or a batch per frame). Encode
 * throws `CodecError` only for an unencodable user payload; an unencodable
 * exit reason is replaced by an `{ error }` reason saying so, because exit and
 * DOWN signals come from the runtime and must not fail. Decode never throws.
 * Decoding needs the connection's ends (`CodecEnds`): `send`/`call` targets
 * and callers travel without their node names.
 */
export class SignalCodec {
  private readonly packr: Packr;
  /** Reused by `encodeMany`: cleared after each encode. */
  private readonly scratch = new SignalBatch();

  constructor() {
    // No records: standalone msgpackr records cost more than plain maps, and
    // per-stream (`sequential`) records would desync the peer if an encode failed half-way.
    // `useBigIntExtension`: any bigint survives. No `moreTypes`, no structured
    // clone: only plain data crosses (see `strictDepth`).
    this.packr = new Packr({ useRecords: false, useBigIntExtension: true, structuredClone: false });
  }

  /** One signal as a frame (a batch of one). */
  encode(s: Signal): Buffer {
    return this.encodeMany([s]);
  }

  /**
   * Several signals in one frame (for transports that coalesce per tick).
   * Throws `CodecError` if a payload cannot be encoded; an unencodable exit
   * or down reason is replaced, as in `encodeFrames`.
   */
  encodeMany(signals: readonly Signal[]): Buffer {
    const b = this.scratch;
    for (let i = 0; i < signals.length; i++) b.add(signals[i]!);
    const frames = this.encodeFrames(b, Infinity, (_kind, err) => {
      throw err;
    });
    return frames.length === 1 ? frames[0]! : this.packr.pack([]);
  }

  /**
   * Packs `batch` (then clears it) as frame payloads of at most `maxBytes`
   * each: one, unless it is larger, then split between signals. Never
   * throws: a signal whose payload cannot be encoded, or that alone exceeds
   * `maxBytes`, is dropped and reported to `onDrop` (it could never be
   * delivered); an exit or down reason that cannot be encoded is replaced by
   * one saying so (the runtime's signals must not fail).
   */
  encodeFrames(batch: SignalBatch, maxBytes: number, onDrop: (kind: string, err: CodecError) => void): Buffer[] {
    if (batch.size === 0) return [];
    try {
      try {
        const bytes = packChecked(this.packr, batch.flat);
        if (bytes.length <= maxBytes) return [bytes];
      } catch {
        // Found and dropped below, signal by signal.
      }
      return this.encodeSplit(batch.flat, maxBytes, onDrop);
    } finally {
      batch.clear();
    }
  }

  /** The slow path of `encodeFrames`: every signal packed alone, then as many per frame as fit. */
  private encodeSplit(flat: readonly unknown[], maxBytes: number, onDrop: (kind: string, err: CodecError) => void): Buffer[] {
    const frames: Buffer[] = [];
    let cur: unknown[] = [];
    // An upper bound of `cur` packed: each item's own array header over-counts the shared one.
    let curBytes = 5;
    itemsOf(flat, (item) => {
      const k = item[0] as number;
      const kind = KIND_NAME[k]!;
      let size: number;
      try {
        size = packChecked(this.packr, item).length;
      } catch (e) {
        const at = REASON_AT[k];
        const err = new CodecError('TROUPE_ERR_ENCODE', `cannot encode ${kind} signal: ${errText(e)} (messages must be msgpack-serializable)`);
        if (at === undefined) {
          onDrop(kind, err);
          if (k === KIND.reply) size = failReply(item, err.message);
          else return;
        } else {
          item[at] = { error: { name: 'CodecError', message: `exit reason could not be encoded: ${errText(e)}` } };
          size = this.packr.pack(item).length;
        }
      }
      if (size + 5 > maxBytes) {
        const err = new CodecError('TROUPE_ERR_ENCODE', `the encoded ${kind} signal is ${size} bytes, more than maxPayload (${maxBytes})`);
        onDrop(kind, err);
        if (k !== KIND.reply) return;
        size = failReply(item, err.message);
      }
      if (curBytes + size > maxBytes) {
        frames.push(this.packr.pack(cur));
        cur = [];
        curBytes = 5;
      }
      for (let i = 0; i < item.length; i++) cur.push(item[i]);
      curBytes += size;
    });
    if (cur.length > 0) frames.push(this.packr.pack(cur));
    return frames;
  }

  /** One signal (a frame of exactly one). */
  decode(bytes: Uint8Array, ends: CodecEnds): DecodeResult {
    const r = this.decodeMany(bytes, ends);
    if (!r.ok) return r;
    if (r.signals.length !== 1) return { ok: false, error: new CodecError('TROUPE_ERR_DECODE', `expected one signal, got ${r.signals.length}`) };
    return { ok: true, signal: r.signals[0]! };
  }

  decodeMany(bytes: Uint8Array, ends: CodecEnds): DecodeManyResult {
    const v = this.unpack(bytes);
    if (v instanceof CodecError) return { ok: false, error: v };
    const out: Signal[] = [];
    const err = this.read(v, ends, out, true);
    return err === null ? { ok: true, signals: out } : { ok: false, error: new CodecError('TROUPE_ERR_DECODE', err) };
  }

  /**
   * As `decodeMany`, but `send` and `reply` signals are not built as objects (the
   * receive fast path): the whole frame is checked first, so a malformed
   * frame delivers nothing. Never throws.
   */
  decodeFrame(bytes: Uint8Array, ends: CodecEnds): DecodeFrameResult {
    const v = this.unpack(bytes);
    if (v instanceof CodecError) return { ok: false, error: v };
    const others: Signal[] = [];
    const err = this.read(v, ends, others, false);
    return err === null ? { ok: true, frame: new DecodedFrame(v as unknown[], others) } : { ok: false, error: new CodecError('TROUPE_ERR_DECODE', err) };
  }

  private read(v: unknown, ends: CodecEnds, out: Signal[], sends: boolean): string | null {
    try {
      return readFlat(v, ends, out, sends);
    } catch (e) {
      return `malformed batch: ${errText(e)}`;
    }
  }

  /** Any value with Pids/Refs (a message alone, for other uses of the same format). */
  encodeValue(v: unknown): Buffer {
    try {
      return packChecked(this.packr, [v]).subarray(1);
    } catch (e) {
      throw new CodecError('TROUPE_ERR_ENCODE', `cannot encode value: ${errText(e)}`);
    }
  }

  decodeValue(bytes: Uint8Array): { ok: true; value: unknown } | { ok: false; error: CodecError } {
    const v = this.unpack(bytes);
    return v instanceof CodecError ? { ok: false, error: v } : { ok: true, value: v };
  }

  private unpack(bytes: Uint8Array): unknown {
    if (!(bytes instanceof Uint8Array)) return new CodecError('TROUPE_ERR_DECODE', 'frame is not bytes');
    if (bytes.length === 0) return new CodecError('TROUPE_ERR_DECODE', 'empty frame');
    strictDepth++;
    try {
      const v = this.packr.unpack(bytes);
      // A value `d` deep takes at least `d` bytes: small frames need no walk.
      if (bytes.length > MAX_NESTING && tooDeep(v, MAX_NESTING + 1)) return new CodecError('TROUPE_ERR_DECODE', `value nests deeper than ${MAX_NESTING} levels`);
      return v;
    } catch (e) {
      return new CodecError('TROUPE_ERR_DECODE', `malformed frame: ${errText(e)}`);
    } finally {
      strictDepth--;
    }
  }
}
