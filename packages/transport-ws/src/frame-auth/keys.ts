import { createHash, hkdfSync } from 'node:crypto';
import type { FrameAuth } from './mode.js';

/** One direction's AEAD key and the IV its counter is XORed into (TLS 1.3's per-record nonce). */
export interface DirectionKey {
  key: Buffer;
  iv: Buffer;
}

/** This end's keys for one connection: what it seals with, what it opens with. */
export interface FrameKeys {
  send: DirectionKey;
  recv: DirectionKey;
}

/** Everything both ends agreed on in the handshake; the keys bind all of it. */
export interface KeyTranscript {
  version: number;
  frameAuth: FrameAuth;
  initiator: { name: string; creation: number; nonce: Uint8Array; hidden: boolean; url: string | null };
  acceptor: { name: string; creation: number; nonce: Uint8Array; hidden: boolean; url: string | null };
}

export const KEY_BYTES = 32;
export const IV_BYTES = 12;

/**
 * Per-connection keys, HKDF-SHA256 with the cookie as input key material:
 * salt = both nonces (fresh per connection, so no two connections share a
 * key even between the same incarnations), info = a label, the direction
 * and a SHA-256 of the whole transcript (names, creations, version,
 * frameAuth, both sides' `hidden` and `url`; hashed because HKDF's info is
 * at most 1024 bytes and URLs may be 2048). Two directions, two keys: a frame
 * reflected back to its sender does not open. Without the cookie nobody can
 * derive them; with it (a full member anyway) anyone can.
 */
export function deriveFrameKeys(cookie: string, t: KeyTranscript, role: 'initiator' | 'acceptor'): FrameKeys {
  const salt = Buffer.concat([lengthPrefixed(t.initiator.nonce), lengthPrefixed(t.acceptor.nonce)]);
  const th = transcriptHash(t);
  const derive = (direction: string): DirectionKey => {
    const info = Buffer.concat([Buffer.from(`troupe-dist v${t.version} frame keys ${direction}`, 'utf8'), th]);
    const okm = Buffer.from(hkdfSync('sha256', Buffer.from(cookie, 'utf8'), salt, info, KEY_BYTES + IV_BYTES));
    return { key: okm.subarray(0, KEY_BYTES), iv: okm.subarray(KEY_BYTES) };
  };
  const i2a = derive('initiator->acceptor');
  const a2i = derive('acceptor->initiator');
  return role === 'initiator' ? { send: i2a, recv: a2i } : { send: a2i, recv: i2a };
}

function transcriptHash(t: KeyTranscript): Buffer {
  const h = createHash('sha256');
  const field = (b: Uint8Array | string): void => {
    h.update(lengthPrefixed(typeof b === 'string' ? Buffer.from(b, 'utf8') : b));
  };
  const nums = Buffer.allocUnsafe(12);
  nums.writeUInt32BE(t.version, 0);
  nums.writeUInt32BE(t.initiator.creation >>> 0, 4);
  nums.writeUInt32BE(t.acceptor.creation >>> 0, 8);
  h.update(nums);
  field(t.frameAuth);
  for (const side of [t.initiator, t.acceptor]) {
    field(side.name);
    field(side.nonce);
    field(side.hidden ? 'hidden' : 'visible');
    field(side.url ?? '');
  }
  return h.digest();
}

function lengthPrefixed(b: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + b.length);
  out.writeUInt32BE(b.length, 0);
  out.set(b, 4);
  return out;
}
