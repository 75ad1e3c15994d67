/**
 * Every WebSocket message is binary: one type byte, then the payload.
 * Handshake frames come first; the rest only after the handshake. Never
 * renumber: both ends of a connection must agree.
 */
export const FrameType = {
  /** Handshake (1): acceptor → initiator, sent as soon as the socket opens. */
  Challenge: 0x01,
  /** Handshake (2): initiator → acceptor, with the initiator's proof. */
  Hello: 0x02,
  /** Handshake (3): acceptor → initiator, with the acceptor's proof. */
  Accept: 0x03,
  /** A batch of signals (the codec's `encodeMany`), in send order. */
  Data: 0x10,
  /** Liveness: sent when nothing else was sent for a tick interval. No payload. */
  Tick: 0x11,
  /** Mesh: the sender's visible peers `[[name, url], ...]` (transitive connect). */
  Members: 0x12,
} as const;

export type FrameTypeCode = (typeof FrameType)[keyof typeof FrameType];

export function isHandshakeFrame(t: number): boolean {
  return t === FrameType.Challenge || t === FrameType.Hello || t === FrameType.Accept;
}

/**
 * Why a connection was closed: the WebSocket close code and the reason text
 * both ends log. 4000-4999 is the application range of RFC 6455.
 */
export const CloseReason = {
  bad_cookie: 4001,
  replayed_nonce: 4002,
  version_mismatch: 4003,
  setup_timeout: 4004,
  protocol_error: 4005,
  frame_before_handshake: 4006,
  unknown_frame_type: 4007,
  decode_error: 4008,
  invalid_name: 4009,
  rate_limited: 4010,
  already_connected: 4011,
  simultaneous_connect: 4012,
  self_connect: 4013,
  net_tick_timeout: 4014,
  send_buffer_overflow: 4015,
  disconnect: 4016,
  replaced: 4017,
  shutdown: 4018,
  /** Refused: the peer is on this node's block list (test hook `block`, the harness's partition). */
  blocked: 4019,
  /**
   * A frame after the handshake did not authenticate under the connection's
   * keys and the next counter: forged, tampered, replayed, reordered,
   * reflected, or after a dropped frame. Nothing from it or after is delivered.
   */
  frame_auth_failed: 4020,
  /** The peer's `frameAuth` option differs from this node's (checked after its proof). */
  frame_auth_mismatch: 4021,
} as const;

export type CloseReasonName = keyof typeof CloseReason;

export function closeReasonOf(code: number): CloseReasonName | undefined {
  for (const k of Object.keys(CloseReason) as CloseReasonName[]) if (CloseReason[k] === code) return k;
  return undefined;
}
