import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deriveFrameKeys, type KeyTranscript } from '../src/frame-auth/keys.js';
import { FrameOpener, FrameSealer, TAG_BYTES } from '../src/frame-auth/seal.js';

const transcript: KeyTranscript = {
  version: 5,
  frameAuth: 'aes-256-gcm',
  initiator: { name: 'a@h', creation: 1, nonce: Buffer.alloc(32, 1), hidden: false, url: 'ws://127.0.0.1:1' },
  acceptor: { name: 'b@h', creation: 2, nonce: Buffer.alloc(32, 2), hidden: false, url: 'ws://127.0.0.1:2' },
};

describe('frame keys and records (unit)', () => {
  it('the keys bind the cookie and every field of the handshake', () => {
    const base = deriveFrameKeys('cookie', transcript, 'initiator').send.key.toString('hex');
    const variants: [string, KeyTranscript][] = [
      ['cookie2', transcript],
      ['cookie', { ...transcript, version: 6 }],
      ['cookie', { ...transcript, frameAuth: 'none' }],
      ['cookie', { ...transcript, initiator: { ...transcript.initiator, name: 'x@h' } }],
      ['cookie', { ...transcript, initiator: { ...transcript.initiator, creation: 9 } }],
      ['cookie', { ...transcript, initiator: { ...transcript.initiator, nonce: Buffer.alloc(32, 3) } }],
      ['cookie', { ...transcript, initiator: { ...transcript.initiator, hidden: true } }],
      ['cookie', { ...transcript, initiator: { ...transcript.initiator, url: null } }],
      ['cookie', { ...transcript, acceptor: { ...transcript.acceptor, nonce: Buffer.alloc(32, 3) } }],
      ['cookie', { ...transcript, acceptor: { ...transcript.acceptor, url: 'ws://relay:1' } }],
      ['cookie', { ...transcript, acceptor: { ...transcript.acceptor, creation: 7 } }],
    ];
    for (const [cookie, t] of variants) expect(deriveFrameKeys(cookie, t, 'initiator').send.key.toString('hex')).not.toBe(base);
    // Long URLs fit (HKDF's info is bounded; the transcript goes in as a hash).
    const long = { ...transcript, initiator: { ...transcript.initiator, url: `ws://${'h'.repeat(2040)}` } };
    expect(deriveFrameKeys('cookie', long, 'initiator').send.key).toHaveLength(32);
  });

  it('records open in order, once: replays, reordering, drops and tampering are refused, and the opener stays broken', () => {
    const k = deriveFrameKeys('cookie', transcript, 'initiator').send;
    const s = new FrameSealer(k);
    const frames = [0, 1, 2, 3].map((i) => s.seal(Buffer.from([0x10, i, i, i])));
    // The same plaintext twice gives different records (the counter is in the nonce).
    expect(s.seal(Buffer.from([0x11])).equals(s.seal(Buffer.from([0x11])))).toBe(false);
    expect(frames[0]).toHaveLength(4 + TAG_BYTES);

    const inOrder = new FrameOpener(k);
    for (const [i, f] of frames.entries()) expect(inOrder.open(f)).toEqual(Buffer.from([0x10, i, i, i]));

    const replay = new FrameOpener(k);
    expect(replay.open(frames[0]!)).not.toBeNull();
    expect(replay.open(frames[0]!)).toBeNull();
    expect(replay.open(frames[1]!)).toBeNull(); // broken: the genuine next one is refused too

    expect(new FrameOpener(k).open(frames[1]!)).toBeNull(); // reordered / first one dropped

    for (let byte = 0; byte < frames[0]!.length; byte++) {
      const t = Buffer.from(frames[0]!);
      t[byte]! ^= 0x80;
      expect(new FrameOpener(k).open(t)).toBeNull();
    }
    expect(new FrameOpener(k).open(frames[0]!.subarray(0, TAG_BYTES - 1))).toBeNull();
  });

  it('records of any size round-trip; the counters say how many went by', () => {
    const k = { key: randomBytes(32), iv: randomBytes(12) };
    const s = new FrameSealer(k);
    const o = new FrameOpener(k);
    for (const n of [0, 1, 15, 16, 17, 1000, 70_000]) {
      const plain = randomBytes(n);
      const rec = s.seal(plain);
      expect(rec).toHaveLength(n + TAG_BYTES);
      expect(o.open(rec)).toEqual(plain);
    }
    expect(o.opened).toBe(7);
    expect(s.sealed).toBe(7);
  });

  it('ciphers made ahead in batches (between event-loop turns) give the same records as ciphers made on demand', async () => {
    const k = { key: randomBytes(32), iv: randomBytes(12) };
    const batched = new FrameSealer(k);
    const o = new FrameOpener(k);
    const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
    for (let i = 0; i < 40; i++) {
      const plain = randomBytes(1 + (i % 7) * 50);
      const rec = batched.seal(plain);
      // The reference: a fresh sealer jumped to the same counter, its cipher made on demand.
      const ref = new FrameSealer(k);
      (ref as unknown as { seq: { counter: number } }).seq.counter = i;
      expect(rec.equals(ref.seal(plain))).toBe(true);
      expect(o.open(rec)).toEqual(plain);
      if (i % 3 === 0) await turn();
    }
    batched.dispose();
    o.dispose();
    // After dispose a record is still made (on demand), only nothing is kept ahead.
    expect(batched.seal(Buffer.from([1]))).toHaveLength(1 + TAG_BYTES);
  });

  it('the nonce is the IV XOR the 64-bit counter, beyond 32 bits too', () => {
    const k = { key: randomBytes(32), iv: randomBytes(12) };
    const s = new FrameSealer(k);
    const o = new FrameOpener(k);
    // Jump both ends past 2^32 records (as if that many had gone by).
    (s as unknown as { seq: { counter: number } }).seq.counter = 2 ** 32 + 5;
    (o as unknown as { seq: { counter: number } }).seq.counter = 2 ** 32 + 5;
    const f = s.seal(Buffer.from([0x11]));
    expect(o.open(f)).toEqual(Buffer.from([0x11]));
    const wrong = new FrameOpener(k);
    (wrong as unknown as { seq: { counter: number } }).seq.counter = 5; // the same low 32 bits
    expect(wrong.open(f)).toBeNull();
  });
});
