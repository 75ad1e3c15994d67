import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The proofs of the handshake: HMAC-SHA256 keyed by the cookie over both
 * nonces, both names, both creations and the version. The role label makes
 * the initiator's proof useless as the acceptor's (no reflection); length
 * prefixes make the input unambiguous. The cookie never leaves the node.
 */
export interface DigestInput {
  version: number;
  initiator: { name: string; creation: number; nonce: Uint8Array };
  acceptor: { name: string; creation: number; nonce: Uint8Array };
}

export type Role = 'initiator' | 'acceptor';

export function handshakeDigest(cookie: string, role: Role, d: DigestInput): Buffer {
  const h = createHmac('sha256', cookie);
  const field = (b: Uint8Array | string): void => {
    const bytes = typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
    const len = Buffer.allocUnsafe(4);
    len.writeUInt32BE(bytes.length, 0);
    h.update(len);
    h.update(bytes);
  };
  field(`troupe-dist ${role}`);
  const nums = Buffer.allocUnsafe(12);
  nums.writeUInt32BE(d.version, 0);
  nums.writeUInt32BE(d.initiator.creation >>> 0, 4);
  nums.writeUInt32BE(d.acceptor.creation >>> 0, 8);
  h.update(nums);
  field(d.initiator.name);
  field(d.initiator.nonce);
  field(d.acceptor.name);
  field(d.acceptor.nonce);
  return h.digest();
}

/** Constant-time comparison (`timingSafeEqual`), so a wrong digest leaks nothing through timing. */
export function digestMatches(expected: Uint8Array, got: Uint8Array): boolean {
  return expected.length === got.length && timingSafeEqual(expected, got);
}
