import { Packr } from 'msgpackr';
import { FrameType } from '../frame-types.js';
import { isValidNodeName } from '@troupe/actor-core';
import { isFrameAuth, type FrameAuth } from '../frame-auth/mode.js';

/**
 * The three handshake messages (numbered as in `acceptor.ts` /
 * `initiator.ts`). They travel as `[type byte][msgpack array]`; decoding
 * checks every field, because they come from an unauthenticated peer.
 */

/** (1) acceptor → initiator, as soon as the socket opens. */
export interface ChallengeMsg {
  t: 'challenge';
  /** Protocol versions the acceptor speaks, inclusive. */
  minVersion: number;
  maxVersion: number;
  name: string;
  creation: number;
  nonce: Uint8Array;
}

/** (2) initiator → acceptor: its identity, its nonce, and its proof over both nonces and names. */
export interface HelloMsg {
  t: 'hello';
  /** The version the initiator chose from the acceptor's range. */
  version: number;
  name: string;
  creation: number;
  hidden: boolean;
  /** Where the initiator listens (told to other members for the mesh); null if it does not. */
  url: string | null;
  nonce: Uint8Array;
  digest: Uint8Array;
  /**
   * How the initiator protects frames after the handshake (protocol 5); the
   * acceptor refuses a different choice. null: a HELLO of protocol 4, which
   * had no such field (refused as `version_mismatch`).
   */
  frameAuth: FrameAuth | null;
}

/** (3) acceptor → initiator: the acceptor's proof. */
export interface AcceptMsg {
  t: 'accept';
  /** The acceptor's `hidden` and `url`: told only to a peer that proved the cookie. */
  hidden: boolean;
  url: string | null;
  digest: Uint8Array;
}

export type HandshakeMsg = ChallengeMsg | HelloMsg | AcceptMsg;

export const MIN_NONCE_BYTES = 16;
export const MAX_NONCE_BYTES = 64;
const DIGEST_BYTES = 32;
const MAX_URL = 2048;

const packr = new Packr({ useRecords: false });

/** How `decodeHandshake` starts the error for a malformed node name (closed with `invalid_name`, 4009). */
export const INVALID_NAME = 'invalid node name';

export function encodeHandshake(m: HandshakeMsg): Buffer {
  let type: number;
  let body: unknown[];
  switch (m.t) {
    case 'challenge':
      type = FrameType.Challenge;
      body = [m.minVersion, m.maxVersion, m.name, m.creation, m.nonce];
      break;
    case 'hello':
      type = FrameType.Hello;
      body = m.frameAuth === null
        ? [m.version, m.name, m.creation, m.hidden, m.url, m.nonce, m.digest]
        : [m.version, m.name, m.creation, m.hidden, m.url, m.nonce, m.digest, m.frameAuth];
      break;
    case 'accept':
      type = FrameType.Accept;
      body = [m.hidden, m.url, m.digest];
      break;
  }
  const payload = packr.pack(body);
  const out = Buffer.allocUnsafe(payload.length + 1);
  out[0] = type;
  payload.copy(out, 1);
  return out;
}

const isU32 = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 0xffffffff;
const isBytes = (x: unknown, min: number, max: number): x is Uint8Array => x instanceof Uint8Array && x.length >= min && x.length <= max;
const isUrl = (x: unknown): x is string | null => x === null || (typeof x === 'string' && x.length <= MAX_URL && /^wss?:\/\//.test(x));

/** A handshake frame's payload as a message, or why it is not one. */
export function decodeHandshake(type: number, payload: Uint8Array): HandshakeMsg | string {
  let v: unknown;
  try {
    v = packr.unpack(payload);
  } catch (e) {
    return `malformed handshake frame: ${(e as Error).message}`;
  }
  if (!Array.isArray(v)) return 'malformed handshake frame: not an array';
  switch (type) {
    case FrameType.Challenge: {
      const [minVersion, maxVersion, name, creation, nonce] = v as unknown[];
      if (v.length !== 5 || !isU32(minVersion) || !isU32(maxVersion) || !isU32(creation)) return 'malformed challenge';
      if (!isValidNodeName(name)) return `${INVALID_NAME} ${JSON.stringify(String(name)).slice(0, 80)}`;
      if (!isBytes(nonce, MIN_NONCE_BYTES, MAX_NONCE_BYTES)) return 'challenge nonce too short or too long';
      return { t: 'challenge', minVersion, maxVersion, name, creation, nonce };
    }
    case FrameType.Hello: {
      const [version, name, creation, hidden, url, nonce, digest, frameAuth] = v as unknown[];
      // 7 fields: protocol 4's HELLO, decoded so that the version check can name the problem.
      if ((v.length !== 7 && v.length !== 8) || (v.length === 8 && !isFrameAuth(frameAuth)) || !isU32(version) || !isU32(creation) || typeof hidden !== 'boolean' || !isUrl(url)) return 'malformed hello';
      if (!isValidNodeName(name)) return `${INVALID_NAME} ${JSON.stringify(String(name)).slice(0, 80)}`;
      if (!isBytes(nonce, MIN_NONCE_BYTES, MAX_NONCE_BYTES)) return 'hello nonce too short or too long';
      if (!isBytes(digest, DIGEST_BYTES, DIGEST_BYTES)) return 'hello digest has the wrong length';
      return { t: 'hello', version, name, creation, hidden, url, nonce, digest, frameAuth: v.length === 8 ? (frameAuth as FrameAuth) : null };
    }
    case FrameType.Accept: {
      const [hidden, url, digest] = v as unknown[];
      if (v.length !== 3 || typeof hidden !== 'boolean' || !isUrl(url) || !isBytes(digest, DIGEST_BYTES, DIGEST_BYTES)) return 'malformed accept';
      return { t: 'accept', hidden, url, digest };
    }
    default:
      return `not a handshake frame type: ${type}`;
  }
}
