import { createCipheriv, createDecipheriv, type CipherGCM, type DecipherGCM } from 'node:crypto';
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
    return this.at(this.counter);
  }

  /** The nonce of record `c`. */
  at(c: number): Buffer {
    if (c >= MAX_COUNTER) throw new Error('transport-ws: frame counter exhausted; the connection must be re-established');
    this.nonce.writeUInt32BE((this.ivHi ^ Math.floor(c / 0x1_0000_0000)) >>> 0, 4);
    this.nonce.writeUInt32BE((this.ivLo ^ c) >>> 0, 8);
    return this.nonce;
  }
}

/** Records whose cipher objects are made ahead, and when fewer than LOW are left. */
const AHEAD = 8;
const LOW = 2;

/**
 * Cipher objects for the next records of one direction, made ahead in
 * batches. Node gives each cipher object one IV for life, so every record
 * needs a `createCipheriv`; made one at a time between other work, that
 * set-up costs several times what it costs in a tight loop (OpenSSL's
 * lookups run cold), so they are made AHEAD at once, in the check phase
 * after the I/O that used them, since every future nonce is known.
 */
class Ahead<C> {
  private readonly ready: C[] = [];
  private scheduled = false;
  private disposed = false;

  constructor(
    private readonly seq: NonceSequence,
    private readonly make: (nonce: Buffer) => C,
  ) {}

  /** The cipher for record `seq.counter` (made now if none is ready). */
  take(): C {
    const c = this.ready.length > 0 ? this.ready.shift()! : this.make(this.seq.current());
    if (this.ready.length < LOW && !this.scheduled && !this.disposed) {
      this.scheduled = true;
      setImmediate(this.refill);
    }
    return c;
  }

  /** Makes the ciphers for the records after those ready; they follow `seq.counter + 1` once `take` consumed its own. */
  private readonly refill = (): void => {
    this.scheduled = false;
    if (this.disposed) return;
    // `take` has advanced the counter by now: ready[i] is for record counter + i.
    for (let c = this.seq.counter + this.ready.length; this.ready.length < AHEAD; c++) this.ready.push(this.make(this.seq.at(c)));
  };

  dispose(): void {
    this.disposed = true;
    this.ready.length = 0;
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
  private readonly ahead: Ahead<CipherGCM>;

  constructor(k: DirectionKey) {
    this.seq = new NonceSequence(k.iv);
    this.ahead = new Ahead(this.seq, (nonce) => createCipheriv('aes-256-gcm', k.key, nonce, GCM));
  }

  /** Drops the ciphers made ahead (the connection is gone). */
  dispose(): void {
    this.ahead.dispose();
  }

  /** Records sealed so far. */
  get sealed(): number {
    return this.seq.counter;
  }

  seal(frame: Uint8Array): Buffer {
    const c = this.ahead.take();
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
  private readonly ahead: Ahead<DecipherGCM>;
  private broken = false;

  constructor(k: DirectionKey) {
    this.seq = new NonceSequence(k.iv);
    this.ahead = new Ahead(this.seq, (nonce) => createDecipheriv('aes-256-gcm', k.key, nonce, GCM));
  }

  /** Drops the deciphers made ahead (the connection is gone). */
  dispose(): void {
    this.ahead.dispose();
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
    const d = this.ahead.take();
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
    this.ahead.dispose();
    return null;
  }
}
