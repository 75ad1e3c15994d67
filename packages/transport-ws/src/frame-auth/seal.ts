import { createCipheriv, createDecipheriv } from 'node:crypto';
import { IV_BYTES, type DirectionKey } from './keys.js';

/** GCM's full 128-bit tag: truncated tags weaken forgery resistance for no real saving. */
export const TAG_BYTES = 16;
const GCM = { authTagLength: TAG_BYTES } as const;

/** Far below GCM's limit per key (2^64 records with a counter nonce); a JS number stays exact up to here. */
const MAX_COUNTER = Number.MAX_SAFE_INTEGER;

/**
 * The nonce of record `counter`: the direction's IV XOR the 64-bit counter
 * in its last 8 bytes (as TLS 1.3). Unique per key as long as the counter
 * never repeats, which both ends guarantee by counting, never sending it.
 */
class NonceSequence {
  counter = 0;
  private readonly nonce = Buffer.allocUnsafe(IV_BYTES);
  private readonly ivHi: number;
  private readonly ivLo: number;

  constructor(iv: Buffer) {
    iv.copy(this.nonce, 0, 0, 4);
    this.ivHi = iv.readUInt32BE(4);
    this.ivLo = iv.readUInt32BE(8);
  }

  /** The current counter's nonce (a buffer reused per call: the cipher copies it at creation). */
  current(): Buffer {
    const c = this.counter;
    if (c >= MAX_COUNTER) throw new Error('transport-ws: frame counter exhausted; the connection must be re-established');
    this.nonce.writeUInt32BE((this.ivHi ^ Math.floor(c / 0x1_0000_0000)) >>> 0, 4);
    this.nonce.writeUInt32BE((this.ivLo ^ c) >>> 0, 8);
    return this.nonce;
  }
}

/**
 * Seals one direction's frames: each WebSocket message becomes
 * `ciphertext(type byte ‖ payload) ‖ tag`, the nonce being the direction's
 * record counter, which is not sent — the receiver expects exactly the next
 * one. A batch of signals is one message, so one seal per flush, not per
 * signal. Node cannot re-key a cipher object with a new IV, so each record
 * gets a fresh `createCipheriv` (its set-up is most of the cost for small
 * frames).
 */
export class FrameSealer {
  private readonly seq: NonceSequence;
  private readonly key: Buffer;

  constructor(k: DirectionKey) {
    this.key = k.key;
    this.seq = new NonceSequence(k.iv);
  }

  /** Records sealed so far. */
  get sealed(): number {
    return this.seq.counter;
  }

  seal(frame: Uint8Array): Buffer {
    const c = createCipheriv('aes-256-gcm', this.key, this.seq.current(), GCM);
    this.seq.counter++;
    const ct = c.update(frame);
    c.final(); // empty for GCM; computes the tag
    const out = Buffer.allocUnsafe(ct.length + TAG_BYTES);
    ct.copy(out, 0);
    c.getAuthTag().copy(out, ct.length);
    return out;
  }
}

/**
 * Opens the peer's frames in order. Anything that does not authenticate
 * under the next counter — forged (no key), tampered, replayed, reordered,
 * after a dropped record, reflected (the other direction's key) — returns
 * null, and the opener refuses everything after: the stream is broken and
 * the caller closes the connection.
 */
export class FrameOpener {
  private readonly seq: NonceSequence;
  private readonly key: Buffer;
  private broken = false;

  constructor(k: DirectionKey) {
    this.key = k.key;
    this.seq = new NonceSequence(k.iv);
  }

  /** Records opened so far. */
  get opened(): number {
    return this.seq.counter;
  }

  /** The plaintext frame (type byte ‖ payload), or null if `msg` does not authenticate. */
  open(msg: Buffer): Buffer | null {
    // An empty plaintext may authenticate; the frame decoder refuses it (no type byte).
    if (this.broken || msg.length < TAG_BYTES) return this.fail();
    const ctLen = msg.length - TAG_BYTES;
    const d = createDecipheriv('aes-256-gcm', this.key, this.seq.current(), GCM);
    d.setAuthTag(msg.subarray(ctLen));
    // update()'s output is unauthenticated until final() succeeds: never used before that.
    const pt = d.update(msg.subarray(0, ctLen));
    try {
      d.final();
    } catch {
      return this.fail();
    }
    this.seq.counter++;
    return pt;
  }

  private fail(): null {
    this.broken = true;
    return null;
  }
}
