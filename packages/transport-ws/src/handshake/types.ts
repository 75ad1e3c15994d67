import type { HandshakeMsg } from './messages.js';
import type { FrameAuth } from '../frame-auth/mode.js';
import type { FrameKeys } from '../frame-auth/keys.js';

/** Protocol versions this build speaks. Bump `MAX` for a new wire format, keep `MIN` while the old one is still served. */
// 2: a Data frame is one flat array of signals (kind, then fields), `send`/`call` targets and
// callers as integers, and a `call` signal that carries its monitor (actor-core's SignalCodec).
// 3: consecutive sends to one process as one `SEND_RUN` (a v2 node cannot decode it).
// 4: the proofs cover HELLO's and ACCEPT's `hidden` and `url`; `hidden` moved from CHALLENGE
// to ACCEPT (a peer without the cookie learns less); `reply_failed` signals; only plain data decoded.
// 5: HELLO carries `frameAuth`, covered by both proofs; every frame after the handshake is sealed
// (AES-256-GCM, per-connection keys from HKDF, per-direction counters) unless both ends chose `none`.
// A v4 peer is refused with `version_mismatch`: it would send frames this node cannot authenticate.
export const PROTOCOL_MIN_VERSION = 5;
export const PROTOCOL_MAX_VERSION = 5;

/** What a version refusal adds when the peer is older than this node can serve. */
export function olderHint(peerMax: number, selfMin: number): string {
  if (peerMax >= selfMin) return '';
  return peerMax < 5 && selfMin >= 5
    ? ' (protocol 5 authenticates every frame after the handshake; upgrade the older node)'
    : ' (upgrade the older node)';
}

export interface LocalIdentity {
  name: string;
  creation: number;
  hidden: boolean;
  /** The URL this node listens on, told to peers for the mesh. */
  url: string | null;
  /** How frames after the handshake are protected; both ends must agree. */
  frameAuth: FrameAuth;
}

/** The authenticated peer at the end of a handshake. */
export interface PeerInfo {
  name: string;
  creation: number;
  /** The connection is hidden if either end is (Erlang's rule). */
  hidden: boolean;
  peerHidden: boolean;
  url: string | null;
  version: number;
  frameAuth: FrameAuth;
  /** This end's frame keys (null when `frameAuth` is `none`). */
  keys: FrameKeys | null;
}

export type FailReason =
  | 'bad_cookie'
  | 'replayed_nonce'
  | 'version_mismatch'
  | 'protocol_error'
  | 'already_connected'
  | 'simultaneous_connect'
  | 'self_connect'
  | 'blocked'
  | 'frame_auth_mismatch';

export interface Failure {
  reason: FailReason;
  detail: string;
}

/** Everything a handshake step may consult; the impure parts are injected so steps stay pure. */
export interface HandshakeContext {
  self: LocalIdentity;
  cookie: string;
  minVersion: number;
  maxVersion: number;
  /** A fresh random nonce (≥ 16 bytes; the transport uses 32 from `crypto.randomBytes`). */
  newNonce(): Uint8Array;
  /** Records a nonce the peer sent; true if it was seen before (a replay). */
  replayed(nonce: Uint8Array): boolean;
  /**
   * Once the peer's identity is known: null to go on, or why this connection
   * must not be set up (one connection per node pair). The acceptor asks only
   * after the peer proved the cookie.
   */
  admit(peer: { name: string; creation: number; role: 'initiator' | 'acceptor' }): Failure | null;
}

/** What one step decided: the next state, and at most one of: a message to send, success, failure. */
export interface Step<S> {
  state: S;
  send?: HandshakeMsg;
  up?: PeerInfo;
  fail?: Failure;
}
