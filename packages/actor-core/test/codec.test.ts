import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Pid, Ref } from '../src/index.js';
import { CALL_NAME, CodecError, KIND, SEND_RUN, SignalBatch, SignalCodec, type Signal } from '../src/wire.js';
import { testNode } from './helpers.js';

const pid = (id = 7, node = 'a@mem', creation = 42) => new Pid(node, id, creation);
const ref = (id = 9, node = 'a@mem', creation = 42) => new Ref(node, id, creation);

/** The receiving node is a@mem (creation 42); the sender b@mem (creation 3). */
const ends = { local: 'a@mem', peer: 'b@mem', peerCreation: 3 };

const samples: Signal[] = [
  { k: 'send', to: pid(), msg: { hello: [1, 'two', null] } },
  { k: 'send_name', name: 'logger', msg: 'x' },
  { k: 'exit', from: pid(1), to: pid(2, 'b@mem', 3), reason: { shutdown: { why: 'x' } }, link: true },
  { k: 'link', from: pid(1), to: pid(2) },
  { k: 'unlink', from: pid(1), to: pid(2) },
  { k: 'monitor', from: pid(1), to: pid(2), ref: ref() },
  { k: 'monitor', from: null, to: 'registered', ref: ref() },
  { k: 'demonitor', from: null, ref: ref() },
  { k: 'down', to: pid(1), ref: ref(), object: { name: 'n', node: 'b@mem' }, reason: 'noproc' },
  { k: 'down', to: null, ref: ref(), object: pid(3), reason: { error: { name: 'Error', message: 'boom', stack: 's' } } },
  { k: 'reply', tag: 12345, value: [pid(), ref()] },
  { k: 'reply_failed', tag: 2 ** 52 + 7, message: 'too deep' },
  { k: 'call', to: pid(4), tag: 77, from: pid(5, 'b@mem', 3), req: { x: [1, pid(6, 'c@mem')] } },
  { k: 'call', to: 'registered', tag: 2 ** 40, from: null, req: 'r' },
  { k: 'spawn_request', ref: ref(), from: pid(), name: 'worker', args: [1, { a: pid(5) }], link: true, monitor: false },
  { k: 'spawn_reply', ref: ref(), pid: pid(8, 'b@mem'), error: null, message: null },
  { k: 'spawn_reply', ref: ref(), pid: null, error: 'not_exposed', message: "'x' is not exposed" },
];

/** 3,000 frames: random bytes, and `valid` frames with a few bytes overwritten (deterministically). */
function* fuzzFrames(valid: readonly Uint8Array[]): Generator<Uint8Array> {
  for (let i = 0; i < 3000; i++) {
    if (i % 2 === 0) {
      yield randomBytes(1 + (i % 64));
      continue;
    }
    const b = Uint8Array.from(valid[i % valid.length]!);
    const flips = 1 + (i % 4);
    for (let j = 0; j < flips; j++) b[(i * 7 + j * 13) % b.length] = (i * 31 + j) & 0xff;
    yield b;
  }
}

describe('codec', () => {
  it('round-trips every signal kind', () => {
    const c = new SignalCodec();
    for (const s of samples) {
      const r = c.decode(c.encode(s), ends);
      expect(r.ok, s.k).toBe(true);
      if (r.ok) expect(r.signal).toEqual(s);
    }
    expect(new Set(samples.map((s) => s.k)).size).toBe(Object.keys(KIND).length);
  });

  it('pids and refs at any depth come back as fresh Pid/Ref objects', () => {
    const node = testNode('codec@mem');
    const live = node.spawn({ handle() {} });
    expect(live.p).not.toBeNull(); // a local pid carries its process cache
    const msg = { a: [{ b: { c: live } }], set: new Set([ref(1)]), tuple: [[[pid(3)]]], refs: { r: ref(2) } };
    const c = new SignalCodec();
    const r = c.decode(c.encode({ k: 'send', to: live, msg }), { ...ends, local: 'codec@mem' });
    expect(r.ok).toBe(true);
    if (!r.ok || r.signal.k !== 'send') return;
    const got = r.signal.msg as typeof msg;
    const inner = got.a[0]!.b.c;
    expect(inner).toBeInstanceOf(Pid);
    expect(inner.equals(live)).toBe(true);
    expect(inner).not.toBe(live);
    expect(inner.p).toBeNull();
    expect(r.signal.to.p).toBeNull();
    expect([...got.set][0]).toBeInstanceOf(Ref);
    expect(([...got.set][0] as Ref).equals(ref(1))).toBe(true);
    expect(got.tuple[0]![0]![0]!.equals(pid(3))).toBe(true);
    expect(got.refs.r.key).toBe(ref(2).key);
    node.shutdown();
  });

  it('keeps undefined, bigint and Date; a Set arrives as an array, an Error as [name, message, cause]; large ids and unicode node names', () => {
    const c = new SignalCodec();
    const big = 2n ** 80n;
    const msg = { u: undefined, big, set: new Set([1, 2]), when: new Date(5), err: new TypeError('t'), p: new Pid('nœud@hôte', 2 ** 40, 2 ** 32 - 1) };
    const r = c.decode(c.encode({ k: 'send_name', name: 'x', msg }), ends);
    expect(r.ok).toBe(true);
    if (!r.ok || r.signal.k !== 'send_name') return;
    const m = r.signal.msg as typeof msg;
    expect('u' in m && m.u === undefined).toBe(true);
    expect(m.big).toBe(big);
    expect(m.set).toEqual([1, 2]);
    expect(m.when.getTime()).toBe(5);
    expect(m.err).toEqual(['TypeError', 't', undefined]);
    expect(m.p.equals(msg.p)).toBe(true);
  });

  it('malformed input gives a typed error, never a throw', () => {
    const c = new SignalCodec();
    const bad: Uint8Array[] = [
      new Uint8Array(0),
      Uint8Array.from([0xc1]),
      Uint8Array.from([0x92, 0x01]), // truncated array
      Uint8Array.from([0xdd, 0xff, 0xff, 0xff, 0xff]), // array claiming 4G items
      Uint8Array.from([0x01, 0x02]), // trailing bytes
      c.encodeValue({ k: 'send' }), // an object, not a frame
      c.encodeValue([99, 1, 2]), // unknown kind
      c.encodeValue([KIND.send, 'not a pid', 1]),
      c.encodeValue([KIND.exit, pid(), pid(), 'r']), // missing field
      c.encodeValue([KIND.reply, 1.5, 1]), // non-integer tag
      c.encodeValue([KIND.send, -1, 42, 'm']), // negative process id
      c.encodeValue([KIND.send, 7, 42, 'm', KIND.send, 7, 43]), // second signal truncated
      c.encodeValue([KIND.send, 7, 42, 'm', 1.5, 'x', 'y']), // non-integer kind
      c.encodeValue([KIND.call, 7, 42, 1, 'not an id', 'req']), // caller not an id
      c.encodeValue([CALL_NAME, 7, 1, null, 'req']), // name not a string
      c.encodeValue([[KIND.send, 7, 42, 'm']]), // the old nested layout
      Uint8Array.from([0x93, 0x00, 0xd4, 0x20, 0x00, 0x01]), // pid extension, 1-byte payload
      Uint8Array.from([0x93, 0x00, 0xc7, 0x0d, 0x20, 0, 0, 0, 1, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0, 0x61, 0x01]), // pid with NaN id
    ];
    for (const b of bad) {
      const r = c.decode(b, ends);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error).toBeInstanceOf(CodecError);
        expect(r.error.code).toBe('TROUPE_ERR_DECODE');
      }
    }
    expect(c.decode('nope' as unknown as Uint8Array, ends).ok).toBe(false);
    // and the codec still works afterwards
    const ok = c.decode(c.encode(samples[0]!), ends);
    expect(ok.ok).toBe(true);
  });

  it('fuzz: random and mutated frames never throw', () => {
    const c = new SignalCodec();
    const throws: unknown[] = [];
    for (const b of fuzzFrames(samples.map((s) => c.encode(s)))) {
      try {
        c.decode(b, ends);
        c.decodeMany(b, ends);
      } catch (e) {
        throws.push(e);
      }
    }
    expect(throws).toEqual([]);
  });

  it('a __proto__ key is refused on encode; one a peer sends does not pollute prototypes', () => {
    const c = new SignalCodec();
    const evil = JSON.parse('{"a": [{"__proto__": {"polluted": true}}]}') as unknown;
    expect(() => c.encode({ k: 'send_name', name: 'x', msg: evil })).toThrow(/__proto__/);
    expect(c.encode({ k: 'send_name', name: 'x', msg: '__proto__' })).toBeInstanceOf(Buffer); // as a string value it is fine
    const r = c.decode(new Packr({ useRecords: false }).pack([KIND.send_name, 'x', evil]), ends);
    expect(r.ok).toBe(true);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    if (r.ok && r.signal.k === 'send_name') expect(Object.getPrototypeOf(r.signal.msg)).toBe(Object.prototype);
  });

  it('an unencodable payload throws CodecError; an unencodable exit reason is replaced', () => {
    const c = new SignalCodec();
    expect(() => c.encode({ k: 'send', to: pid(), msg: { s: Symbol('x') } })).toThrow(CodecError);
    try {
      c.encode({ k: 'send', to: pid(), msg: Symbol('x') });
    } catch (e) {
      expect((e as CodecError).code).toBe('TROUPE_ERR_ENCODE');
    }
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const r = c.decode(c.encode({ k: 'exit', from: pid(1), to: pid(2), reason: cyclic, link: true }), ends);
    expect(r.ok).toBe(true);
    if (r.ok && r.signal.k === 'exit') expect(r.signal.reason).toMatchObject({ error: { name: 'CodecError' } });
  });

  it('batches: encodeMany/decodeMany, including the per-signal fallback path', () => {
    const c = new SignalCodec();
    const r = c.decodeMany(c.encodeMany(samples), ends);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.signals).toEqual(samples);
    const withBadReason: Signal[] = [samples[0]!, { k: 'down', to: pid(), ref: ref(), object: pid(2), reason: Symbol('r') }, samples[1]!];
    const r2 = c.decodeMany(c.encodeMany(withBadReason), ends);
    expect(r2.ok).toBe(true);
    if (r2.ok) {
      expect(r2.signals).toHaveLength(3);
      expect(r2.signals[1]).toMatchObject({ k: 'down', reason: { error: { name: 'CodecError' } } });
      expect(r2.signals[2]).toEqual(samples[1]);
    }
    const many = Array.from({ length: 70000 }, (_, i): Signal => ({ k: 'reply', tag: i + 1, value: i === 5 ? Symbol('no') : i }));
    expect(() => c.encodeMany(many)).toThrow(CodecError);
    const bigBatch = Array.from({ length: 70000 }, (_, i): Signal => ({ k: 'exit', from: pid(), to: pid(), reason: i === 5 ? Symbol('r') : i, link: false }));
    const r3 = c.decodeMany(c.encodeMany(bigBatch), ends);
    expect(r3.ok && r3.signals.length).toBe(70000);
    expect(c.decodeMany(c.encodeValue({ not: 'a batch' }), ends).ok).toBe(false);
    // decode() wants exactly one signal
    expect(c.decode(c.encodeMany([samples[0]!, samples[1]!]), ends).ok).toBe(false);
  });

  it('send targets and callers travel without node names: the ends supply them', () => {
    const c = new SignalCodec();
    const long = 'x'.repeat(200) + '@host';
    const frame = c.encodeMany([
      { k: 'send', to: new Pid(long, 5, 9), msg: 1 },
      { k: 'send', to: new Pid(long, 5, 9), msg: 2 },
      { k: 'call', to: new Pid(long, 6, 9), tag: 3, from: new Pid('caller@h', 8, 1), req: null },
    ]);
    expect(frame.length).toBeLessThan(40);
    const r = c.decodeMany(frame, { local: 'me@h', peer: 'you@h', peerCreation: 11 });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const [s1, s2, s3] = r.signals as [Extract<Signal, { k: 'send' }>, Extract<Signal, { k: 'send' }>, Extract<Signal, { k: 'call' }>];
    expect([s1.to.node, s1.to.id, s1.to.creation, s1.msg, s2.msg]).toEqual(['me@h', 5, 9, 1, 2]);
    expect(s2.to.equals(s1.to)).toBe(true);
    expect(s3.to).toEqual(new Pid('me@h', 6, 9));
    expect(s3.from).toEqual(new Pid('you@h', 8, 11));
  });

  it('consecutive sends to one process travel as one run (SEND_RUN), in order with everything else', () => {
    const c = new SignalCodec();
    const signals: Signal[] = [
      ...Array.from({ length: 1000 }, (_, i): Signal => ({ k: 'send', to: pid(1), msg: i })),
      { k: 'send', to: pid(2), msg: 'other' },
      { k: 'send', to: pid(1), msg: 'again' },
      { k: 'send', to: pid(1, 'a@mem', 43), msg: 'another incarnation' },
      { k: 'link', from: pid(3, 'b@mem', 3), to: pid(1) },
      { k: 'send', to: pid(1), msg: 'after link' },
    ];
    const bytes = c.encodeMany(signals);
    const raw = c.decodeValue(bytes);
    expect(raw.ok && (raw.value as unknown[]).slice(0, 5)).toEqual([SEND_RUN, 1, 42, 1000, 0]);
    expect(bytes.length).toBeLessThan(1000 * 3 + 100); // the messages, not 3 more values each
    const r = c.decodeMany(bytes, ends);
    expect(r.ok && r.signals).toEqual(signals);
    if (r.ok) expect((r.signals[999] as { to: Pid }).to).toBe((r.signals[0] as { to: Pid }).to); // one decoded pid per run
    expect(collect(c, bytes)).toEqual(signals);
  });

  it('encodeFrames: frames of at most maxBytes split between (and inside) runs; drops what cannot go, keeps the rest in order', () => {
    const c = new SignalCodec();
    const b = new SignalBatch();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (let i = 0; i < 20; i++) b.send(1, 42, i === 7 ? cyclic : Buffer.alloc(300, i));
    b.send(1, 42, Buffer.alloc(5000)); // alone larger than maxBytes
    b.add({ k: 'exit', from: pid(3, 'b@mem', 3), to: pid(1), reason: Symbol('unencodable'), link: true });
    b.send(1, 42, 'last');
    expect(b.size).toBe(23);
    const dropped: string[] = [];
    const frames = c.encodeFrames(b, 1024, (kind, err) => dropped.push(`${kind}: ${err.message}`));
    expect(b.size).toBe(0);
    expect(c.encodeFrames(b, 1024, () => {})).toEqual([]);
    expect(frames.length).toBeGreaterThan(5);
    for (const f of frames) expect(f.length).toBeLessThanOrEqual(1024);
    const got = frames.flatMap((f) => {
      const r = c.decodeMany(f, ends);
      expect(r.ok).toBe(true);
      return r.ok ? r.signals : [];
    });
    const msgs = got.map((s) => (s.k === 'send' ? (Buffer.isBuffer(s.msg) ? (s.msg as Buffer)[0] : s.msg) : s.k));
    expect(msgs).toEqual([0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 'exit', 'last']);
    expect(got[19]).toMatchObject({ k: 'exit', reason: { error: { name: 'CodecError' } } });
    expect(dropped).toHaveLength(2);
    expect(dropped[0]).toMatch(/^send: cannot encode send signal/);
    expect(dropped[1]).toMatch(/^send: .*more than maxPayload/);
  });
});

/** What `DecodedFrame.forEach` handed over, as the equivalent signals. */
function collect(c: SignalCodec, bytes: Uint8Array, stopAfter = Infinity): Signal[] | null {
  const r = c.decodeFrame(bytes, ends);
  if (!r.ok) return null;
  const out: Signal[] = [];
  r.frame.forEach({
    send: (id, creation, msg) => out.push({ k: 'send', to: new Pid(ends.local, id, creation), msg }) < stopAfter,
    reply: (tag, value) => out.push({ k: 'reply', tag, value }) < stopAfter,
    call: (id, creation, tag, from, req) =>
      out.push({ k: 'call', to: new Pid(ends.local, id, creation), tag, from: from === null ? null : new Pid(ends.peer, from, ends.peerCreation), req }) < stopAfter,
    signal: (s) => out.push(s) < stopAfter,
  });
  return out;
}

describe('codec: decodeFrame (the receive fast path)', () => {
  it('hands every signal over in frame order, sends, replies and calls without Signal objects', () => {
    const c = new SignalCodec();
    const mixed: Signal[] = [
      { k: 'send', to: pid(1), msg: 'a' },
      { k: 'send', to: pid(1), msg: 'b' },
      { k: 'link', from: pid(2, 'b@mem', 3), to: pid(1) },
      { k: 'send', to: pid(2), msg: 'c' },
      { k: 'reply', tag: 5, value: { v: 1 } },
      ...samples,
      { k: 'send', to: pid(1), msg: 'd' },
      { k: 'exit', from: pid(2, 'b@mem', 3), to: pid(1), reason: 'kill', link: false },
      { k: 'send', to: pid(1), msg: 'e' },
    ];
    const bytes = c.encodeMany(mixed);
    const slow = c.decodeMany(bytes, ends);
    expect(slow.ok).toBe(true);
    expect(collect(c, bytes)).toEqual(slow.ok ? slow.signals : null);
    // A sink returning false ends the frame there.
    expect(collect(c, bytes, 3)).toEqual(slow.ok ? slow.signals.slice(0, 3) : null);
  });

  it('a frame with one malformed signal is refused whole: nothing of it is delivered', () => {
    const c = new SignalCodec();
    const good = [KIND.send, 1, 42, 'a', KIND.reply, 3, 'r', KIND.send, 1, 42, 'b'];
    for (const bad of [
      [KIND.send, -1, 42, 'x'],
      [KIND.send, 1, 1.5, 'x'],
      [KIND.send, 'one', 42, 'x'],
      [KIND.reply, 'tag', 'x'],
      [KIND.reply, -3, 'x'],
      [KIND.call, 1, 42, 7, 'not an id', 'req'],
      [KIND.call, 1, 42, -7, null, 'req'],
      [KIND.call, 1, 42, 7, null],
      [KIND.link, 'not a pid', pid()],
      [KIND.send, 1, 42],
      [SEND_RUN, 1, 42, 0],
      [SEND_RUN, 1, 42, 3, 'x', 'y'],
      [SEND_RUN, 1, 42, 1.5, 'x', 'y'],
      [SEND_RUN, -1, 42, 1, 'x'],
      [SEND_RUN, 1, 42, -1, 'x'],
      [99],
    ]) {
      const bytes = c.encodeValue([...good, ...bad]);
      expect(c.decodeFrame(bytes, ends).ok, JSON.stringify(bad)).toBe(false);
      expect(c.decodeMany(bytes, ends).ok).toBe(false);
    }
    // The checked-once shortcut for a run of sends to one pid still checks the first of the run.
    expect(c.decodeFrame(c.encodeValue([KIND.send, -1, -1, 'x', KIND.send, -1, -1, 'y']), ends).ok).toBe(false);
    expect(c.decodeFrame(c.encodeValue([KIND.send, NaN, NaN, 'x']), ends).ok).toBe(false);
  });

  it('never throws on random or mutated bytes (fuzz), and agrees with decodeMany', () => {
    const c = new SignalCodec();
    const run: Signal[] = [1, 2, 3].map((msg) => ({ k: 'send', to: pid(), msg }));
    const valid = [c.encodeMany(samples), c.encodeMany(run), ...samples.map((s) => c.encode(s))];
    const throws: unknown[] = [];
    for (const b of fuzzFrames(valid)) {
      try {
        const fast = collect(c, b);
        const slow = c.decodeMany(b, ends);
        expect(fast === null).toBe(!slow.ok);
        if (slow.ok) expect(fast).toEqual(slow.signals);
      } catch (e) {
        throws.push(e);
      }
    }
    expect(throws).toEqual([]);
  });
});
