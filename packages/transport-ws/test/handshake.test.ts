import { describe, expect, it } from 'vitest';
import { acceptorNext, acceptorStart } from '../src/handshake/acceptor.js';
import { initiatorNext, initiatorStart } from '../src/handshake/initiator.js';
import { decodeHandshake, encodeHandshake, type HandshakeMsg } from '../src/handshake/messages.js';
import { handshakeDigest } from '../src/handshake/digest.js';
import { NonceCache } from '../src/handshake/nonce-cache.js';
import { PROTOCOL_MAX_VERSION, PROTOCOL_MIN_VERSION, type Failure, type HandshakeContext } from '../src/handshake/types.js';
import type { FrameAuth } from '../src/frame-auth/mode.js';
import { FrameOpener, FrameSealer } from '../src/frame-auth/seal.js';

let counter = 0;
function nonce(): Uint8Array {
  const b = Buffer.alloc(32);
  b.writeUInt32BE(++counter, 0);
  return b;
}

function ctx(name: string, cookie: string, over: Partial<HandshakeContext> = {}): HandshakeContext {
  const cache = new NonceCache();
  return {
    self: { name, creation: name.length * 7, hidden: false, url: `ws://127.0.0.1:${name.length}`, frameAuth: 'aes-256-gcm' },
    cookie,
    minVersion: PROTOCOL_MAX_VERSION,
    maxVersion: PROTOCOL_MAX_VERSION,
    newNonce: nonce,
    replayed: (n) => cache.checkAndAdd(n),
    admit: () => null,
    ...over,
  };
}

/** Sends every message through the wire encoding, as a socket would. */
function wire(m: HandshakeMsg): HandshakeMsg {
  const buf = encodeHandshake(m);
  const back = decodeHandshake(buf[0]!, buf.subarray(1));
  if (typeof back === 'string') throw new Error(back);
  return back;
}

describe('handshake state machine, frame by frame', () => {
  it('good cookie: (1) challenge, (2) hello, (3) accept; both sides learn name, creation and url', () => {
    const a = ctx('a@h', 'secret');
    const b = ctx('bb@h', 'secret');
    const s1 = acceptorStart(b);
    expect(s1.send?.t).toBe('challenge');
    const s2 = initiatorNext(initiatorStart(), wire(s1.send!), a);
    expect(s2.fail).toBeUndefined();
    expect(s2.send?.t).toBe('hello');
    const s3 = acceptorNext(s1.state, wire(s2.send!), b);
    expect(s3.fail).toBeUndefined();
    expect(s3.up).toMatchObject({ name: 'a@h', creation: a.self.creation, url: a.self.url, version: PROTOCOL_MAX_VERSION, hidden: false });
    expect(s3.send?.t).toBe('accept');
    const s4 = initiatorNext(s2.state, wire(s3.send!), a);
    expect(s4.up).toMatchObject({ name: 'bb@h', creation: b.self.creation, url: b.self.url, version: PROTOCOL_MAX_VERSION });
    expect(s4.state.step).toBe('up');
  });

  it('the cookie never crosses the wire', () => {
    const cookie = 'a-very-distinctive-cookie-value';
    const a = ctx('a@h', cookie);
    const b = ctx('b@h', cookie);
    const s1 = acceptorStart(b);
    const s2 = initiatorNext(initiatorStart(), s1.send!, a);
    const s3 = acceptorNext(s1.state, s2.send!, b);
    for (const m of [s1.send!, s2.send!, s3.send!]) {
      expect(encodeHandshake(m).includes(Buffer.from(cookie))).toBe(false);
    }
  });

  it('wrong cookie: the acceptor refuses the hello with bad_cookie and sends nothing', () => {
    const a = ctx('a@h', 'wrong');
    const b = ctx('b@h', 'right');
    const s1 = acceptorStart(b);
    const s2 = initiatorNext(initiatorStart(), wire(s1.send!), a);
    const s3 = acceptorNext(s1.state, wire(s2.send!), b);
    expect(s3.fail?.reason).toBe('bad_cookie');
    expect(s3.send).toBeUndefined();
    expect(s3.up).toBeUndefined();
  });

  it('an acceptor that does not know the cookie cannot fake its accept', () => {
    const a = ctx('a@h', 'right');
    const b = ctx('b@h', 'right');
    const s1 = acceptorStart(b);
    const s2 = initiatorNext(initiatorStart(), s1.send!, a);
    const forged = { t: 'accept' as const, hidden: false, url: null, digest: Buffer.alloc(32, 7) };
    expect(initiatorNext(s2.state, forged, a).fail?.reason).toBe('bad_cookie');
    // Nor reflect the initiator's own proof back (role labels differ).
    const hello = s2.send as Extract<HandshakeMsg, { t: 'hello' }>;
    expect(initiatorNext(s2.state, { t: 'accept', hidden: false, url: null, digest: hello.digest }, a).fail?.reason).toBe('bad_cookie');
  });

  it('a replayed hello (same nonce) is refused with replayed_nonce', () => {
    const a = ctx('a@h', 'c');
    const b = ctx('b@h', 'c');
    const s1 = acceptorStart(b);
    const s2 = initiatorNext(initiatorStart(), s1.send!, a);
    expect(acceptorNext(s1.state, s2.send!, b).up).toBeDefined();
    // The attacker replays the captured hello against a new connection.
    const again = acceptorStart(b);
    expect(acceptorNext(again.state, s2.send!, b).fail?.reason).toBe('replayed_nonce');
  });

  it('a replayed challenge nonce is refused by the initiator', () => {
    const a = ctx('a@h', 'c');
    const b = ctx('b@h', 'c');
    const s1 = acceptorStart(b);
    expect(initiatorNext(initiatorStart(), s1.send!, a).fail).toBeUndefined();
    expect(initiatorNext(initiatorStart(), s1.send!, a).fail?.reason).toBe('replayed_nonce');
  });

  it('the version is negotiated: highest common; none in common is version_mismatch', () => {
    const a = ctx('a@h', 'c', { minVersion: 1, maxVersion: 3 });
    const b = ctx('b@h', 'c', { minVersion: 2, maxVersion: 5 });
    const s1 = acceptorStart(b);
    const s2 = initiatorNext(initiatorStart(), s1.send!, a);
    expect((s2.send as { version: number }).version).toBe(3);
    expect(acceptorNext(s1.state, s2.send!, b).up?.version).toBe(3);

    const old = ctx('old@h', 'c', { minVersion: 1, maxVersion: 1 });
    const s1b = acceptorStart(b);
    expect(initiatorNext(initiatorStart(), s1b.send!, old).fail?.reason).toBe('version_mismatch');
    // An initiator that claims a version outside the acceptor's range.
    const s1c = acceptorStart(b);
    const s2c = initiatorNext(initiatorStart(), s1c.send!, ctx('x@h', 'c', { minVersion: PROTOCOL_MAX_VERSION, maxVersion: 9 }));
    const bad = { ...(s2c.send as Extract<HandshakeMsg, { t: 'hello' }>), version: 9 };
    expect(acceptorNext(s1c.state, bad, b).fail?.reason).toBe('version_mismatch');
  });

  it('names: the own name is self_connect; invalid names never decode', () => {
    const a = ctx('same@h', 'c');
    const b = ctx('same@h', 'c');
    const s1 = acceptorStart(b);
    expect(initiatorNext(initiatorStart(), s1.send!, a).fail?.reason).toBe('self_connect');
    for (const bad of ['', 'noat', 'a b@h', 'a@h\n', 'x'.repeat(300) + '@h', 'a@h;rm']) {
      const m = encodeHandshake({ t: 'challenge', minVersion: PROTOCOL_MAX_VERSION, maxVersion: PROTOCOL_MAX_VERSION, name: 'ok@h', creation: 1, nonce: nonce() });
      const evil = encodeHandshake({ t: 'challenge', minVersion: PROTOCOL_MAX_VERSION, maxVersion: PROTOCOL_MAX_VERSION, name: bad, creation: 1, nonce: nonce() });
      expect(typeof decodeHandshake(m[0]!, m.subarray(1))).toBe('object');
      expect(decodeHandshake(evil[0]!, evil.subarray(1))).toMatch(/invalid node name/);
    }
  });

  it('short nonces, wrong digest lengths and garbage do not decode', () => {
    const short = encodeHandshake({ t: 'challenge', minVersion: PROTOCOL_MAX_VERSION, maxVersion: PROTOCOL_MAX_VERSION, name: 'a@h', creation: 1, nonce: Buffer.alloc(8) });
    expect(decodeHandshake(short[0]!, short.subarray(1))).toMatch(/nonce/);
    const hello = encodeHandshake({ t: 'hello', version: 1, name: 'a@h', creation: 1, hidden: false, url: null, nonce: nonce(), digest: Buffer.alloc(31), frameAuth: 'none' });
    expect(decodeHandshake(hello[0]!, hello.subarray(1))).toMatch(/digest/);
    expect(decodeHandshake(0x02, Buffer.from([0xc1]))).toMatch(/malformed/);
    expect(decodeHandshake(0x02, Buffer.from([0x01]))).toMatch(/not an array/);
  });

  it('admit refuses a duplicate only after the initiator proved the cookie', () => {
    const seen: string[] = [];
    const refuse: Failure = { reason: 'already_connected', detail: 'dup' };
    const b = ctx('b@h', 'c', { admit: (p) => (seen.push(`${p.role}:${p.name}`), refuse) });
    const s1 = acceptorStart(b);
    const wrong = initiatorNext(initiatorStart(), s1.send!, ctx('a@h', 'wrong'));
    expect(acceptorNext(s1.state, wrong.send!, b).fail?.reason).toBe('bad_cookie');
    expect(seen).toEqual([]);
    const s1b = acceptorStart(b);
    const right = initiatorNext(initiatorStart(), s1b.send!, ctx('a@h', 'c'));
    expect(acceptorNext(s1b.state, right.send!, b).fail?.reason).toBe('already_connected');
    expect(seen).toEqual(['acceptor:a@h']);
  });

  it('out-of-order messages are protocol errors', () => {
    const a = ctx('a@h', 'c');
    const b = ctx('b@h', 'c');
    const s1 = acceptorStart(b);
    expect(acceptorNext(s1.state, s1.send!, b).fail?.reason).toBe('protocol_error');
    expect(initiatorNext(initiatorStart(), { t: 'accept', hidden: false, url: null, digest: Buffer.alloc(32) }, a).fail?.reason).toBe('protocol_error');
  });

  it('the digest binds both nonces, both names, both creations, the version and HELLO\'s hidden, url and frameAuth', () => {
    const base = {
      version: 1,
      initiator: { name: 'a@h', creation: 1, nonce: Buffer.alloc(16, 1), hidden: false, url: null as string | null, frameAuth: 'aes-256-gcm' as FrameAuth },
      acceptor: { name: 'b@h', creation: 2, nonce: Buffer.alloc(16, 2) },
    };
    const d = handshakeDigest('c', 'initiator', base).toString('hex');
    const variants = [
      { ...base, version: 2 },
      { ...base, initiator: { ...base.initiator, name: 'x@h' } },
      { ...base, acceptor: { ...base.acceptor, creation: 3 } },
      { ...base, acceptor: { ...base.acceptor, nonce: Buffer.alloc(16, 3) } },
      { ...base, initiator: { ...base.initiator, hidden: true } },
      { ...base, initiator: { ...base.initiator, url: 'ws://relay:1' } },
      { ...base, initiator: { ...base.initiator, frameAuth: 'none' as FrameAuth } },
    ];
    for (const v of variants) expect(handshakeDigest('c', 'initiator', v).toString('hex')).not.toBe(d);
    const claims = { hidden: false, url: null };
    expect(handshakeDigest('c', 'acceptor', base, claims).toString('hex')).not.toBe(d);
    const acc = handshakeDigest('c', 'acceptor', base, claims).toString('hex');
    expect(handshakeDigest('c', 'acceptor', base, { hidden: true, url: null }).toString('hex')).not.toBe(acc);
    expect(handshakeDigest('c', 'acceptor', base, { hidden: false, url: 'ws://relay:1' }).toString('hex')).not.toBe(acc);
    expect(handshakeDigest('other', 'initiator', base).toString('hex')).not.toBe(d);
  });

  it('frame keys: both ends derive the same pair, one per direction, fresh per connection', () => {
    const a = ctx('a@h', 'c');
    const b = ctx('bb@h', 'c');
    const run = () => {
      const s1 = acceptorStart(b);
      const s2 = initiatorNext(initiatorStart(), wire(s1.send!), a);
      const s3 = acceptorNext(s1.state, wire(s2.send!), b);
      const s4 = initiatorNext(s2.state, wire(s3.send!), a);
      return { acc: s3.up!.keys!, ini: s4.up!.keys! };
    };
    const { acc, ini } = run();
    expect(ini.send.key.equals(acc.recv.key) && ini.send.iv.equals(acc.recv.iv)).toBe(true);
    expect(ini.recv.key.equals(acc.send.key) && ini.recv.iv.equals(acc.send.iv)).toBe(true);
    // Two directions, two keys: what A sends does not open as if B had sent it.
    expect(ini.send.key.equals(ini.recv.key)).toBe(false);
    const sealed = new FrameSealer(ini.send).seal(Buffer.from([0x11]));
    expect(new FrameOpener(acc.recv).open(sealed)).toEqual(Buffer.from([0x11]));
    expect(new FrameOpener(ini.recv).open(sealed)).toBeNull();
    // New nonces, new keys: a frame of one connection means nothing on the next.
    expect(run().ini.send.key.equals(ini.send.key)).toBe(false);
  });

  it('frameAuth: both ends must agree; the acceptor refuses another choice only after the proof', () => {
    const b = ctx('b@h', 'c');
    const none = (name: string, cookie: string) => ctx(name, cookie, { self: { ...ctx(name, cookie).self, frameAuth: 'none' } });
    const s1 = acceptorStart(b);
    const s2 = initiatorNext(initiatorStart(), wire(s1.send!), none('a@h', 'c'));
    expect((s2.send as Extract<HandshakeMsg, { t: 'hello' }>).frameAuth).toBe('none');
    const s3 = acceptorNext(s1.state, wire(s2.send!), b);
    expect(s3.fail?.reason).toBe('frame_auth_mismatch');
    expect(s3.fail?.detail).toMatch(/uses frameAuth 'none', this node 'aes-256-gcm'/);
    // Without the cookie the mismatch is not revealed: bad_cookie.
    const s1b = acceptorStart(b);
    const s2b = initiatorNext(initiatorStart(), wire(s1b.send!), none('a@h', 'wrong'));
    expect(acceptorNext(s1b.state, wire(s2b.send!), b).fail?.reason).toBe('bad_cookie');
    // A relay rewriting HELLO's frameAuth (a downgrade) breaks the proof.
    const bNone = none('b@h', 'c');
    const s1c = acceptorStart(bNone);
    const s2c = initiatorNext(initiatorStart(), wire(s1c.send!), ctx('a@h', 'c'));
    const downgraded = { ...(s2c.send as Extract<HandshakeMsg, { t: 'hello' }>), frameAuth: 'none' as const };
    expect(acceptorNext(s1c.state, wire(downgraded), bNone).fail?.reason).toBe('bad_cookie');
    // Both none: up, without keys.
    const s1d = acceptorStart(bNone);
    const s2d = initiatorNext(initiatorStart(), wire(s1d.send!), none('a@h', 'c'));
    const s3d = acceptorNext(s1d.state, wire(s2d.send!), bNone);
    expect(s3d.up).toMatchObject({ frameAuth: 'none', keys: null });
    expect(initiatorNext(s2d.state, wire(s3d.send!), none('a@h', 'c')).up).toMatchObject({ frameAuth: 'none', keys: null });
  });

  it('a protocol 4 HELLO (no frameAuth) decodes and is refused as version_mismatch, naming the upgrade', () => {
    expect(PROTOCOL_MIN_VERSION).toBe(5);
    const b = ctx('b@h', 'c');
    const s1 = acceptorStart(b);
    const s2 = initiatorNext(initiatorStart(), wire(s1.send!), ctx('a@h', 'c'));
    const v4 = { ...(s2.send as Extract<HandshakeMsg, { t: 'hello' }>), version: 4, frameAuth: null };
    const back = wire(v4);
    expect(back).toMatchObject({ t: 'hello', version: 4, frameAuth: null });
    const f = acceptorNext(s1.state, back, b).fail;
    expect(f?.reason).toBe('version_mismatch');
    expect(f?.detail).toMatch(/chose version 4; this node speaks 5\.\.5 \(protocol 5 authenticates every frame/);
    // And a v4 acceptor's CHALLENGE (4..4) is refused by a v5 initiator.
    const old = ctx('old@h', 'c', { minVersion: 4, maxVersion: 4 });
    const c = initiatorNext(initiatorStart(), wire(acceptorStart(old).send!), ctx('a@h', 'c'));
    expect(c.fail?.reason).toBe('version_mismatch');
    expect(c.fail?.detail).toMatch(/upgrade the older node/);
  });
});
