import { OP_ADD, OP_RM, OP_UPD, type WriterIncarnation, type SyncMsg, type WireEntry, type WireOp } from './types.js';

/**
 * Shape checks for frames from peers: nothing a peer sends may throw inside
 * the engine or corrupt a partition. Value checks are the service's
 * (`acceptValue`), op-sequence checks are done against the partition.
 */

const isSeq = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;

export function isOrigin(x: unknown): x is WriterIncarnation {
  return isObj(x) && typeof x.peer === 'string' && x.peer.length > 0 && isSeq(x.inc);
}

export type ValueCheck = (value: unknown, origin: WriterIncarnation) => boolean;

function isOp(x: unknown, o: WriterIncarnation, ok: ValueCheck): boolean {
  if (!Array.isArray(x) || !isSeq(x[0])) return false;
  switch (x[1]) {
    case OP_ADD:
      return x.length === 4 && typeof x[2] === 'string' && ok(x[3], o);
    case OP_RM:
      return x.length === 3 && isSeq(x[2]);
    case OP_UPD:
      return x.length === 4 && isSeq(x[2]) && ok(x[3], o);
    default:
      return false;
  }
}

function isRow(x: unknown, o: WriterIncarnation, ok: ValueCheck): boolean {
  return Array.isArray(x) && x.length === 4 && isSeq(x[0]) && typeof x[1] === 'string' && ok(x[2], o) && isSeq(x[3]);
}

/** A well-formed sync message (values checked with `ok`), or null. */
export function parseSyncMsg<V>(m: unknown, ok: ValueCheck): SyncMsg<V> | null {
  if (!isObj(m) || !isOrigin(m.o)) return null;
  const o = m.o;
  switch (m.t) {
    case 'hello': {
      if (!isSeq(m.up) || typeof m.dg !== 'number') return null;
      const s = m.seen;
      if (s !== null && !(isObj(s) && isSeq(s.up) && typeof s.dg === 'number')) return null;
      return m as SyncMsg<V>;
    }
    case 'delta': {
      if (!isSeq(m.from) || !isSeq(m.to) || m.to <= m.from || !Array.isArray(m.ops)) return null;
      const ops = m.ops as unknown[];
      // An interval is exactly the ops from+1..to, in order.
      if (ops.length !== m.to - m.from) return null;
      for (let i = 0; i < ops.length; i++) {
        if (!isOp(ops[i], o, ok) || (ops[i] as WireOp<V>)[0] !== m.from + 1 + i) return null;
      }
      return m as SyncMsg<V>;
    }
    case 'ack':
      return isSeq(m.up) ? (m as SyncMsg<V>) : null;
    case 'nack':
      return typeof m.have === 'number' && Number.isSafeInteger(m.have) && m.have >= -1 ? (m as SyncMsg<V>) : null;
    case 'snap': {
      if (!isSeq(m.sid) || !isSeq(m.up) || !isSeq(m.i) || !isSeq(m.n) || m.i >= m.n || !isSeq(m.count) || typeof m.dg !== 'number') return null;
      if (!Array.isArray(m.rows)) return null;
      for (const r of m.rows as unknown[]) if (!isRow(r, o, ok)) return null;
      return m as SyncMsg<V>;
    }
    default:
      return null;
  }
}

export type { WireEntry };
