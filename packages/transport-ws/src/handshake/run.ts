import type { WebSocket, RawData } from 'ws';
import type { WireCodec } from '../codec.js';
import { decodeFrame, toBuffer } from '../frame-decoder.js';
import { CloseReason, closeReasonOf, type CloseReasonName } from '../frame-types.js';
import { acceptorNext, acceptorStart, type AcceptorState } from './acceptor.js';
import { initiatorNext, initiatorStart, type InitiatorState } from './initiator.js';
import { encodeHandshake, type HandshakeMsg } from './messages.js';
import type { HandshakeContext, PeerInfo, Step } from './types.js';

/** Why a handshake did not complete. `byPeer`: the peer closed (its reason), rather than this node deciding. */
export interface HandshakeFailure {
  reason: CloseReasonName | 'connection_closed' | 'connection_error';
  detail: string;
  byPeer: boolean;
  /** The peer's name, if it was learnt before the failure. */
  peerName: string | null;
}

export interface HandshakeHooks {
  /**
   * The peer is authenticated. Called synchronously inside the socket's
   * message handler, so the caller can attach its own handlers before the
   * next frame (which may already be parsed) is emitted.
   */
  up(peer: PeerInfo): void;
  failed(f: HandshakeFailure): void;
}

/** What a peer's refusal means for this node, when its close code alone does not say it. */
const PEER_CLOSE_HINTS: Partial<Record<CloseReasonName, string>> = {
  frame_auth_mismatch: ': the peer uses another frameAuth option; both ends must set the same one',
  version_mismatch: ': the peer speaks another protocol version (5 since frames are authenticated); upgrade the older node',
  bad_cookie: ': the peer has another cookie',
};

/** Binds the acceptor state machine to a socket: (1) is sent at once. */
export function runAcceptor(ws: WebSocket, ctx: HandshakeContext, codec: WireCodec, timeoutMs: number, hooks: HandshakeHooks): void {
  let state: AcceptorState;
  const first = acceptorStart(ctx);
  state = first.state;
  bind(ws, codec, timeoutMs, hooks, first, (msg) => {
    const s = acceptorNext(state, msg, ctx);
    state = s.state;
    return s;
  });
}

/** Binds the initiator state machine to an open socket. */
export function runInitiator(ws: WebSocket, ctx: HandshakeContext, codec: WireCodec, timeoutMs: number, hooks: HandshakeHooks): void {
  let state: InitiatorState = initiatorStart();
  bind(ws, codec, timeoutMs, hooks, null, (msg) => {
    const s = initiatorNext(state, msg, ctx);
    state = s.state;
    return s;
  });
}

function bind(
  ws: WebSocket,
  codec: WireCodec,
  timeoutMs: number,
  hooks: HandshakeHooks,
  first: Step<unknown> | null,
  next: (msg: HandshakeMsg) => Step<unknown>,
): void {
  let done = false;
  let peerName: string | null = null;
  const cleanup = (): void => {
    done = true;
    clearTimeout(timer);
    ws.off('message', onMessage);
    ws.off('close', onClose);
    ws.off('error', onError);
  };
  const fail = (reason: HandshakeFailure['reason'], detail: string, byPeer: boolean): void => {
    if (done) return;
    cleanup();
    // Keep a no-op error listener: a late socket error must never become an uncaught exception.
    ws.on('error', () => {});
    if (!byPeer && reason !== 'connection_closed' && reason !== 'connection_error') ws.close(CloseReason[reason], reason);
    else ws.terminate();
    hooks.failed({ reason, detail, byPeer, peerName });
  };
  const apply = (s: Step<unknown>): void => {
    if (s.send !== undefined) ws.send(encodeHandshake(s.send));
    if (s.fail !== undefined) return fail(s.fail.reason, s.fail.detail, false);
    if (s.up !== undefined) {
      cleanup();
      hooks.up(s.up);
    }
  };
  const onMessage = (data: RawData, isBinary: boolean): void => {
    if (done) return;
    const f = decodeFrame(toBuffer(data), isBinary, codec);
    if (f.kind === 'error') return fail(f.reason, f.detail, false);
    if (f.kind !== 'handshake') return fail('frame_before_handshake', `${f.kind} frame before the handshake completed`, false);
    if (f.msg.t === 'challenge' || f.msg.t === 'hello') peerName = f.msg.name;
    apply(next(f.msg));
  };
  const onClose = (code: number, reason: Buffer): void => {
    const named = closeReasonOf(code);
    const hint = named !== undefined ? (PEER_CLOSE_HINTS[named] ?? '') : '';
    fail(named ?? 'connection_closed', `peer closed the connection during the handshake (code ${code}${reason.length > 0 ? `, ${reason.toString('utf8').slice(0, 123)}` : ''})${hint}`, true);
  };
  const onError = (err: Error): void => fail('connection_error', err.message, true);
  const timer = setTimeout(() => fail('setup_timeout', `no complete handshake within ${timeoutMs} ms`, false), timeoutMs);
  ws.on('message', onMessage);
  ws.on('close', onClose);
  ws.on('error', onError);
  if (first !== null) apply(first);
}
