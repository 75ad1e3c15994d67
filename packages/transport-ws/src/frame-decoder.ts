import { Packr } from 'msgpackr';
import type { CodecEnds, Signal } from '@troupe/actor-core/wire';
import type { WireCodec } from './codec.js';
import type { Member } from './frame-encoder.js';
import { FrameType, isHandshakeFrame } from './frame-types.js';
import { INVALID_NAME, decodeHandshake, type HandshakeMsg } from './handshake/messages.js';
import { isValidNodeName } from '@troupe/actor-core';

/**
 * One WebSocket message as a frame, or why it is not one. Never throws:
 * everything here comes off the network.
 */
export type ReceivedFrame =
  | { kind: 'handshake'; msg: HandshakeMsg }
  | { kind: 'data'; signals: Signal[] }
  | { kind: 'tick' }
  | { kind: 'members'; members: Member[] }
  | { kind: 'error'; reason: 'decode_error' | 'unknown_frame_type' | 'protocol_error' | 'invalid_name'; detail: string };

const MAX_MEMBERS = 10_000;
const packr = new Packr({ useRecords: false });

/** ws hands over a Buffer, an ArrayBuffer or fragments, depending on `binaryType`. */
export function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** `ends`: who sent the frame to whom; without them (during the handshake) a Data frame is not decoded. */
export function decodeFrame(buf: Buffer, isBinary: boolean, codec: WireCodec, ends?: CodecEnds): ReceivedFrame {
  if (!isBinary) return { kind: 'error', reason: 'protocol_error', detail: 'text message (frames are binary)' };
  if (buf.length === 0) return { kind: 'error', reason: 'decode_error', detail: 'empty message' };
  const type = buf[0]!;
  const payload = buf.subarray(1);
  if (isHandshakeFrame(type)) {
    const msg = decodeHandshake(type, payload);
    if (typeof msg !== 'string') return { kind: 'handshake', msg };
    return { kind: 'error', reason: msg.startsWith(INVALID_NAME) ? 'invalid_name' : 'decode_error', detail: msg };
  }
  switch (type) {
    case FrameType.Data: {
      if (ends === undefined) return { kind: 'data', signals: [] };
      const r = codec.decodeMany(payload, ends);
      return r.ok ? { kind: 'data', signals: r.signals } : { kind: 'error', reason: 'decode_error', detail: r.error.message };
    }
    case FrameType.Tick:
      return payload.length === 0 ? { kind: 'tick' } : { kind: 'error', reason: 'decode_error', detail: 'tick with a payload' };
    case FrameType.Members:
      return decodeMembers(payload);
    default:
      return { kind: 'error', reason: 'unknown_frame_type', detail: `unknown frame type 0x${type.toString(16).padStart(2, '0')}` };
  }
}

function decodeMembers(payload: Uint8Array): ReceivedFrame {
  let v: unknown;
  try {
    v = packr.unpack(payload);
  } catch (e) {
    return { kind: 'error', reason: 'decode_error', detail: `malformed members frame: ${(e as Error).message}` };
  }
  if (!Array.isArray(v) || v.length > MAX_MEMBERS) return { kind: 'error', reason: 'decode_error', detail: 'malformed members frame' };
  const members: Member[] = [];
  for (const m of v) {
    if (!Array.isArray(m) || m.length !== 2 || !isValidNodeName(m[0]) || typeof m[1] !== 'string' || !/^wss?:\/\//.test(m[1]) || m[1].length > 2048) {
      return { kind: 'error', reason: 'decode_error', detail: 'malformed member entry' };
    }
    members.push({ name: m[0], url: m[1] });
  }
  return { kind: 'members', members };
}
