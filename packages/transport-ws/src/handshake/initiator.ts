import { digestMatches, handshakeDigest, sessionKeys, type DigestInput } from './digest.js';
import type { HandshakeMsg } from './messages.js';
import { olderHint, type HandshakeContext, type PeerInfo, type Step } from './types.js';

/**
 * The connecting side of the handshake, as a pure state machine:
 *
 * (1) Receive CHALLENGE {versions, name, creation, nonceB}: pick the
 *     highest common version, refuse a replayed nonce or this node's own
 *     name, ask `admit` (one connection per pair).
 * (2) Send HELLO {version, name, creation, hidden, url, nonceA, digestA, frameAuth},
 *     digestA = HMAC(cookie, initiator, both nonces, names, creations, version, hidden, url, frameAuth).
 * (3) Receive ACCEPT {hidden, url, digestB}: check the acceptor's proof (which
 *     also covers ACCEPT's hidden and url) in constant time: the connection is up,
 *     with frame keys derived from the cookie and everything above. An acceptor
 *     with another frameAuth closes instead (`frame_auth_mismatch`).
 *
 * The initiator proves itself first, so an unauthenticated client never
 * obtains a proof from an acceptor to attack offline.
 */
export type InitiatorState =
  | { step: 'awaitChallenge' }
  | { step: 'awaitAccept'; input: DigestInput; peer: Omit<PeerInfo, 'url' | 'hidden' | 'peerHidden' | 'keys'> }
  | { step: 'up' }
  | { step: 'failed' };

export function initiatorStart(): InitiatorState {
  return { step: 'awaitChallenge' };
}

export function initiatorNext(state: InitiatorState, msg: HandshakeMsg, ctx: HandshakeContext): Step<InitiatorState> {
  const failed = { step: 'failed' } as const;
  if (state.step === 'awaitChallenge' && msg.t === 'challenge') {
    if (msg.name === ctx.self.name) {
      return { state: failed, fail: { reason: 'self_connect', detail: `the address belongs to this node (${msg.name})` } };
    }
    const version = Math.min(ctx.maxVersion, msg.maxVersion);
    if (version < ctx.minVersion || version < msg.minVersion) {
      return { state: failed, fail: { reason: 'version_mismatch', detail: `peer ${msg.name} speaks ${msg.minVersion}..${msg.maxVersion}; this node ${ctx.minVersion}..${ctx.maxVersion}${olderHint(msg.maxVersion, ctx.minVersion)}` } };
    }
    if (ctx.replayed(msg.nonce)) {
      return { state: failed, fail: { reason: 'replayed_nonce', detail: `peer ${msg.name} sent a nonce seen before` } };
    }
    const refused = ctx.admit({ name: msg.name, creation: msg.creation, role: 'initiator' });
    if (refused !== null) return { state: failed, fail: refused };
    let nonce = ctx.newNonce();
    // A nonce equal to the peer's would let a reflected frame pass as fresh.
    while (Buffer.compare(nonce, msg.nonce) === 0) nonce = ctx.newNonce();
    const { name, creation, hidden, url, frameAuth } = ctx.self;
    const input: DigestInput = {
      version,
      initiator: { name, creation, nonce, hidden, url, frameAuth },
      acceptor: { name: msg.name, creation: msg.creation, nonce: msg.nonce },
    };
    return {
      state: {
        step: 'awaitAccept',
        input,
        peer: { name: msg.name, creation: msg.creation, version, frameAuth },
      },
      send: { t: 'hello', version, name, creation, hidden, url, nonce, digest: handshakeDigest(ctx.cookie, 'initiator', input), frameAuth },
    };
  }
  if (state.step === 'awaitAccept' && msg.t === 'accept') {
    if (!digestMatches(handshakeDigest(ctx.cookie, 'acceptor', state.input, msg), msg.digest)) {
      return { state: failed, fail: { reason: 'bad_cookie', detail: `${state.peer.name} did not prove the cookie (cookies differ, or ACCEPT was altered)` } };
    }
    const keys = sessionKeys(ctx.cookie, 'initiator', state.input, msg);
    return { state: { step: 'up' }, up: { ...state.peer, hidden: msg.hidden || ctx.self.hidden, peerHidden: msg.hidden, url: msg.url, keys } };
  }
  return { state: failed, fail: { reason: 'protocol_error', detail: `unexpected ${msg.t} in state ${state.step}` } };
}
