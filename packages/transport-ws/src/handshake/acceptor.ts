import { digestMatches, handshakeDigest, sessionKeys, type DigestInput } from './digest.js';
import type { HandshakeMsg } from './messages.js';
import { olderHint, type HandshakeContext, type Step } from './types.js';

/**
 * The accepting side of the handshake, as a pure state machine:
 *
 * (1) The socket opens: send CHALLENGE {versions, name, creation, nonceB}
 *     (what the initiator needs for its proof; nothing more before it proved the cookie).
 * (2) Receive HELLO {version, name, creation, hidden, url, nonceA, digestA, frameAuth}:
 *     check the version is in range, the nonce is fresh, the peer is not
 *     this node's name, and digestA = HMAC(cookie, initiator, nonceA, nonceB,
 *     names, creations, version, HELLO's hidden, url and frameAuth) in constant time;
 *     then that frameAuth is this node's, then ask `admit` (one connection per pair).
 * (3) Send ACCEPT {hidden, url, digestB}, digestB also covering ACCEPT's hidden and url: the
 *     connection is up, with frame keys derived from the cookie and everything above.
 *
 * Any other message, or a failed check, ends in `failed`; the caller closes
 * the socket with the reason.
 */
export type AcceptorState =
  | { step: 'awaitHello'; nonce: Uint8Array }
  | { step: 'up' }
  | { step: 'failed' };

export function acceptorStart(ctx: HandshakeContext): Step<AcceptorState> {
  const nonce = ctx.newNonce();
  const { name, creation } = ctx.self;
  return {
    state: { step: 'awaitHello', nonce },
    send: { t: 'challenge', minVersion: ctx.minVersion, maxVersion: ctx.maxVersion, name, creation, nonce },
  };
}

export function acceptorNext(state: AcceptorState, msg: HandshakeMsg, ctx: HandshakeContext): Step<AcceptorState> {
  const failed = { step: 'failed' } as const;
  if (state.step !== 'awaitHello' || msg.t !== 'hello') {
    return { state: failed, fail: { reason: 'protocol_error', detail: `unexpected ${msg.t} in state ${state.step}` } };
  }
  if (msg.version < ctx.minVersion || msg.version > ctx.maxVersion) {
    return { state: failed, fail: { reason: 'version_mismatch', detail: `peer ${msg.name} chose version ${msg.version}; this node speaks ${ctx.minVersion}..${ctx.maxVersion}${olderHint(msg.version, ctx.minVersion)}` } };
  }
  if (msg.name === ctx.self.name) {
    return { state: failed, fail: { reason: 'self_connect', detail: `peer claims this node's own name ${msg.name}` } };
  }
  if (ctx.replayed(msg.nonce) || Buffer.compare(msg.nonce, state.nonce) === 0) {
    return { state: failed, fail: { reason: 'replayed_nonce', detail: `peer ${msg.name} sent a nonce seen before` } };
  }
  if (msg.frameAuth === null) {
    return { state: failed, fail: { reason: 'protocol_error', detail: `peer ${msg.name} sent a protocol ${msg.version} HELLO without frameAuth` } };
  }
  const input: DigestInput = {
    version: msg.version,
    initiator: { name: msg.name, creation: msg.creation, nonce: msg.nonce, hidden: msg.hidden, url: msg.url, frameAuth: msg.frameAuth },
    acceptor: { name: ctx.self.name, creation: ctx.self.creation, nonce: state.nonce },
  };
  if (!digestMatches(handshakeDigest(ctx.cookie, 'initiator', input), msg.digest)) {
    return { state: failed, fail: { reason: 'bad_cookie', detail: `connection attempt from ${msg.name} rejected: invalid challenge reply (cookies differ)` } };
  }
  // Checked only once the HELLO is proven: a peer without the cookie learns nothing of this node's choice.
  if (msg.frameAuth !== ctx.self.frameAuth) {
    return {
      state: failed,
      fail: { reason: 'frame_auth_mismatch', detail: `peer ${msg.name} uses frameAuth '${msg.frameAuth}', this node '${ctx.self.frameAuth}': both ends must set the same frameAuth` },
    };
  }
  const refused = ctx.admit({ name: msg.name, creation: msg.creation, role: 'acceptor' });
  if (refused !== null) return { state: failed, fail: refused };
  const claims = { hidden: ctx.self.hidden, url: ctx.self.url };
  return {
    state: { step: 'up' },
    send: { t: 'accept', ...claims, digest: handshakeDigest(ctx.cookie, 'acceptor', input, claims) },
    up: {
      name: msg.name,
      creation: msg.creation,
      hidden: msg.hidden || ctx.self.hidden,
      peerHidden: msg.hidden,
      url: msg.url,
      version: msg.version,
      frameAuth: msg.frameAuth,
      keys: sessionKeys(ctx.cookie, 'acceptor', input, claims),
    },
  };
}
