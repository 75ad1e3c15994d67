import { encode } from '../serialization/codec.js';
import type { AppendRequest } from '../store/journal.js';

/** One append, encoded: plain data, so it can cross to a writer thread or into SQL arrays. */
export interface EncodedAppend {
  id: string;
  expectedSeq: number;
  versions: number[];
  payloads: Uint8Array[];
  messageId?: string;
  reply?: Uint8Array;
}

/**
 * Encodes an append before it joins a group, so a value that cannot be
 * stored fails its own append only (throws SerializationError).
 */
export function encodeAppend(req: AppendRequest): EncodedAppend {
  const enc: EncodedAppend = { id: req.id, expectedSeq: req.expectedSeq, versions: req.events.map((e) => e.version), payloads: req.events.map((e) => encode(e.event)) };
  if (req.processed !== undefined) {
    enc.messageId = req.processed.messageId;
    enc.reply = encode(req.processed.reply);
  }
  return enc;
}

/** An append waiting in a write group. */
export interface PendingAppend {
  req: AppendRequest;
  enc: EncodedAppend;
  resolve: () => void;
  reject: (e: unknown) => void;
}
