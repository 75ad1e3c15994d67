import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FrameAuth } from '../frame-auth/mode.js';
import { deriveFrameKeys, type FrameKeys } from '../frame-auth/keys.js';

/**
 * The proofs of the handshake: HMAC-SHA256 keyed by the cookie over both
 * nonces, both names, both creations, the version and what each side says
 * of itself — HELLO's `hidden` and `url` in both proofs, ACCEPT's `hidden`
 * and `url` in the acceptor's — so a relay cannot rewrite them (protocol 4) —
 * and HELLO's `frameAuth`, so a relay cannot downgrade it (protocol 5). The role label makes
 * the initiator's proof useless as the acceptor's (no reflection); length
 * prefixes make the input unambiguous. The cookie never leaves the node.
 */
export interface DigestInput {
  version: number;
  initiator: { name: string; creation: number; nonce: Uint8Array; hidden: boolean; url: string | null; frameAuth: FrameAuth };
  acceptor: { name: string; creation: number; nonce: Uint8Array };
}

/** What the acceptor says of itself in ACCEPT, covered by its proof only (the initiator's is sent before it). */
export interface AcceptorClaims {
  hidden: boolean;
  url: string | null;
}

export type Role = 'initiator' | 'acceptor';

export function handshakeDigest(cookie: string, role: Role, d: DigestInput, acceptor?: AcceptorClaims): Buffer {
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
  field(d.initiator.hidden ? 'hidden' : 'visible');
  field(d.initiator.url ?? '');
  field(d.initiator.frameAuth);
  if (role === 'acceptor') {
    if (acceptor === undefined) throw new Error('the acceptor proof covers its ACCEPT claims');
    field(acceptor.hidden ? 'hidden' : 'visible');
    field(acceptor.url ?? '');
  }
  return h.digest();
}

/** Constant-time comparison (`timingSafeEqual`), so a wrong digest leaks nothing through timing. */
export function digestMatches(expected: Uint8Array, got: Uint8Array): boolean {
  return expected.length === got.length && timingSafeEqual(expected, got);
}

/** This end's frame keys for the connection the handshake `d` set up (null for `frameAuth: 'none'`). */
export function sessionKeys(cookie: string, role: Role, d: DigestInput, acceptor: AcceptorClaims): FrameKeys | null {
  if (d.initiator.frameAuth === 'none') return null;
  const { name, creation, nonce, hidden, url } = d.initiator;
  return deriveFrameKeys(
    cookie,
    {
      version: d.version,
      frameAuth: d.initiator.frameAuth,
      initiator: { name, creation, nonce, hidden, url },
      acceptor: { ...d.acceptor, hidden: acceptor.hidden, url: acceptor.url },
    },
    role,
  );
}
