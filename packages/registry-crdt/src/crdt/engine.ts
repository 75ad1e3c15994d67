import { entryHash, entryShare } from './hash.js';
import { OutLog } from './out-log.js';
import { Partition } from './partition.js';
import { emptyStats, type SyncStats } from './stats.js';
import { parseSyncMsg, type ValueCheck } from './validate.js';
import type { EngineOptions, PeerSyncInfo } from './engine-options.js';
import {
  OP_ADD,
  OP_RM,
  OP_UPD,
  originKey,
  type Diff,
  type Entry,
  type WriterIncarnation,
  type OriginKey,
  type Out,
  type SyncMsg,
  type WireEntry,
  type WireOp,
} from './types.js';

/** A snapshot being received: applied only when complete and consistent. */
interface Staging<V> {
  readonly sid: number;
  readonly up: number;
  readonly n: number;
  next: number;
  /** `next` at the last anti-entropy tick: no progress since means the snapshot stalled. */
  tickNext: number;
  rows: WireEntry<V>[];
  queued: Extract<SyncMsg<V>, { t: 'delta' }>[];
}

interface PeerSync<V> {
  readonly peer: string;
  /** The peer's current writer incarnation, once we heard from it. */
  origin: WriterIncarnation | null;
  /** The peer's replica exists (it sent something): push deltas to it. */
  ready: boolean;
  /** Our seq shipped to it (optimistically: FIFO links rarely lose). */
  sent: number;
  /** Our seq it reported integrated (for log GC). */
  acked: number;
  /** The highest `upTo` of its own log it told us about (-1: no HELLO yet). */
  advertised: number;
  /** We caught up with what it advertised at least once. */
  synced: boolean;
  ackDue: boolean;
  /** `have` of the last NACK sent, so a burst of out-of-order deltas costs one NACK. */
  lastNack: number;
  staging: Staging<V> | null;
  /** Our seq of a snapshot sent to it and not acknowledged yet (-1: none), and our tick count then. */
  snapAt: number;
  snapTick: number;
}

const NO_NACK = -2;

/**
 * The owner-authoritative delta-CRDT with its sync protocol, as a pure
 * state machine: local mutations, `receive(peer, frame)`, `flush()` (push
 * pending deltas and acks) and `tick()` (anti-entropy) return the frames to
 * send; the host (a process, or a simulator) carries them. No timers, no I/O.
 *
 * Invariants:
 * - a partition's `upTo` only advances over ops actually integrated: a
 *   delta applies only if `from <= upTo < to` (the causal delta-merging
 *   condition); a snapshot replaces the partition only once every chunk
 *   arrived and its count and digest check out;
 * - what is shipped is exactly described by its context: a delta is the
 *   interval `(from, to]`, a snapshot the whole partition at `up`;
 * - no tombstones: a removal is an op of the owner's log; the log is
 *   bounded and GC'd below what every peer acked.
 */
export class SyncEngine<V> {
  readonly self: WriterIncarnation;
  readonly stats: SyncStats = emptyStats();
  private seq = 0;
  private sid = 0;
  private ticks = 0;
  private readonly own: Partition<V>;
  private readonly parts = new Map<OriginKey, Partition<V>>();
  /** key -> its entry, or a Set once a key has several (most keys have one: no Set per key). */
  private readonly byKey = new Map<string, Entry<V> | Set<Entry<V>>>();
  private readonly log: OutLog<V>;
  private readonly peers = new Map<string, PeerSync<V>>();
  private readonly accept: ValueCheck;
  private readonly adopt: ((v: V, o: WriterIncarnation) => V) | undefined;
  private readonly maxOpsPerDelta: number;
  private readonly chunkSize: number;
  private readonly maxQueued: number;
  private readonly onDiff: ((d: Diff<V>) => void) | undefined;
  private readonly onPeerSynced: ((peer: string) => void) | undefined;
  private readonly onEvent: ((e: string, d: Record<string, unknown>) => void) | undefined;

  constructor(opts: EngineOptions<V>) {
    this.self = { peer: opts.self.peer, inc: opts.self.inc };
    this.own = new Partition<V>(this.self);
    this.parts.set(originKey(this.self), this.own);
    this.log = new OutLog<V>(opts.maxLogOps ?? 10_000);
    this.accept = opts.acceptValue ?? (() => true);
    this.adopt = opts.adopt;
    this.maxOpsPerDelta = opts.maxOpsPerDelta ?? 500;
    this.chunkSize = opts.chunkSize ?? 1000;
    this.maxQueued = opts.maxQueuedDeltas ?? 1000;
    this.onDiff = opts.onDiff;
    this.onPeerSynced = opts.onPeerSynced;
    this.onEvent = opts.onEvent;
  }

  // ---- reading ---------------------------------------------------------------

  /** Own log position (the version-vector entry of `self`). */
  get upTo(): number {
    return this.own.upTo;
  }

  get digest(): number {
    return this.own.digest;
  }

  /** Live entries under `key`, from every origin known (a fresh array). */
  entries(key: string): Entry<V>[] | undefined {
    const x = this.byKey.get(key);
    if (x === undefined) return undefined;
    return x instanceof Set ? [...x] : [x];
  }

  /** How many live entries `key` has. */
  entryCount(key: string): number {
    const x = this.byKey.get(key);
    return x === undefined ? 0 : x instanceof Set ? x.size : 1;
  }

  /** Number of distinct keys with live entries. */
  get keyCount(): number {
    return this.byKey.size;
  }

  keys(): IterableIterator<string> {
    return this.byKey.keys();
  }

  /** This replica's own live entries. */
  ownEntries(): IterableIterator<Entry<V>> {
    return this.own.live.values();
  }

  ownEntry(id: number): Entry<V> | undefined {
    return this.own.live.get(id);
  }

  /** Every live entry of every known origin. */
  *allEntries(): IterableIterator<Entry<V>> {
    for (const p of this.parts.values()) yield* p.live.values();
  }

  get size(): number {
    let n = 0;
    for (const p of this.parts.values()) n += p.live.size;
    return n;
  }

  /** What we hold of `origin`: `{ up, dg, count }`, or undefined. */
  partitionInfo(origin: WriterIncarnation): { up: number; dg: number; count: number } | undefined {
    const p = this.parts.get(originKey(origin));
    return p === undefined ? undefined : { up: p.upTo, dg: p.digest, count: p.live.size };
  }

  /** The version vector: `{ 'peer#inc': upTo }`. */
  versionVector(): Record<OriginKey, number> {
    const vv: Record<OriginKey, number> = {};
    for (const [k, p] of this.parts) vv[k] = p.upTo;
    return vv;
  }

  /** Own ops retained for shipping (bounded). */
  get logSize(): number {
    return this.log.size;
  }

  /** Snapshot rows held in staging buffers right now. */
  get stagedRows(): number {
    let n = 0;
    for (const ps of this.peers.values()) n += ps.staging?.rows.length ?? 0;
    return n;
  }

  peerInfo(peer: string): PeerSyncInfo | undefined {
    const ps = this.peers.get(peer);
    if (ps === undefined) return undefined;
    const p = ps.origin === null ? undefined : this.parts.get(originKey(ps.origin));
    return { peer, origin: ps.origin, ready: ps.ready, synced: ps.synced, have: p?.upTo ?? 0, advertised: ps.advertised, acked: ps.acked };
  }

  /** Synced with `peer` at least once (its status is `alive`). */
  isSynced(peer: string): boolean {
    return this.peers.get(peer)?.synced === true;
  }

  peerNames(): string[] {
    return [...this.peers.keys()];
  }

  hasPeer(peer: string): boolean {
    return this.peers.has(peer);
  }

  // ---- local mutations (only ever on `self`) ------------------------------------

  /** Adds an entry of this replica; returns it (its `id` names it for `remove`/`update`). */
  add(key: string, value: V): Entry<V> {
    const seq = ++this.seq;
    const op: WireOp<V> = [seq, OP_ADD, key, value];
    this.log.push(op);
    const d = newDiff<V>();
    this.applyOp(this.own, op, d);
    this.emit(d);
    return d.added[0]!;
  }

  /** Removes an own entry; false if there is no such live entry. */
  remove(id: number): boolean {
    if (!this.own.live.has(id)) return false;
    const op: WireOp<V> = [++this.seq, OP_RM, id];
    this.log.push(op);
    const d = newDiff<V>();
    this.applyOp(this.own, op, d);
    this.emit(d);
    return true;
  }

  /** Replaces an own entry's value (its identity stays); false if there is no such entry. */
  update(id: number, value: V): boolean {
    if (!this.own.live.has(id)) return false;
    const op: WireOp<V> = [++this.seq, OP_UPD, id, value];
    this.log.push(op);
    const d = newDiff<V>();
    this.applyOp(this.own, op, d);
    this.emit(d);
    return true;
  }

  // ---- peers ------------------------------------------------------------------------

  /** A new sync neighbour: returns the HELLO that introduces us (and asks for its state). */
  addPeer(peer: string): Out<V>[] {
    if (peer === this.self.peer) return [];
    let ps = this.peers.get(peer);
    if (ps === undefined) {
      ps = newPeer<V>(peer);
      this.peers.set(peer, ps);
    }
    return [this.hello(ps)];
  }

  /** The peer is gone (node down, left the service): its entries are dropped now. */
  removePeer(peer: string): void {
    const ps = this.peers.get(peer);
    if (ps === undefined) return;
    this.peers.delete(peer);
    if (ps.origin !== null) this.dropOrigin(ps.origin);
  }

  // ---- periodic work --------------------------------------------------------------------

  /** Pushes every peer what it has not been sent yet, plus due acks; GCs the log. */
  flush(): Out<V>[] {
    const out: Out<V>[] = [];
    for (const ps of this.peers.values()) {
      if (!ps.ready) continue;
      if (ps.sent < this.seq) this.ship(ps, ps.sent, out);
      if (ps.ackDue && ps.origin !== null) {
        ps.ackDue = false;
        const p = this.parts.get(originKey(ps.origin));
        out.push({ to: ps.peer, msg: { t: 'ack', o: this.self, up: p?.upTo ?? 0 } });
        this.stats.acksSent++;
      }
    }
    this.gcLog();
    return out;
  }

  /**
   * Drops the ops every ready peer integrated: they are never needed again
   * (a peer that becomes ready later gets a snapshot if the log no longer
   * covers it). Also run on acks, or a quiet replica would keep its last
   * batches until its next local change.
   */
  private gcLog(): void {
    let minAcked = this.seq;
    for (const ps of this.peers.values()) if (ps.ready && ps.acked < minAcked) minAcked = ps.acked;
    this.log.dropThrough(minAcked);
  }

  /**
   * Anti-entropy: a HELLO (version + digest, and our view of the peer) to
   * every peer (`full`, the default), or only to those not known to be in
   * sync. In sync means: synced once, no snapshot either way, it acked all
   * our ops and we hold all it advertised. Loss on a FIFO link leaves one
   * side out of sync (unacked ops, or an advertised position not reached),
   * and that side's HELLO starts the repair; a copy that differs at an
   * equal position only shows in the digest, which full rounds compare.
   */
  tick(full = true): Out<V>[] {
    const out: Out<V>[] = [];
    this.ticks++;
    for (const ps of this.peers.values()) {
      if (!full && this.inSync(ps)) continue;
      ps.lastNack = NO_NACK;
      // A snapshot of the peer is arriving: our HELLO would say `seen: null` and make the peer
      // start another whole one. While chunks keep coming (since the last tick) we stay quiet; a
      // snapshot that stalled is dropped and asked for again (NACK).
      const st = ps.staging;
      if (st !== null) {
        if (st.next > st.tickNext) {
          st.tickNext = st.next;
          continue;
        }
        this.abortStaging(ps, 'stalled', out);
      }
      out.push(this.hello(ps));
    }
    return out;
  }

  private inSync(ps: PeerSync<V>): boolean {
    if (!ps.ready || !ps.synced || ps.staging !== null || ps.snapAt >= 0 || ps.acked < this.seq || ps.origin === null) return false;
    const p = this.parts.get(originKey(ps.origin));
    return p !== undefined && ps.advertised >= 0 && p.upTo >= ps.advertised;
  }

  /** Whether `flush()` would send anything. */
  get pending(): boolean {
    for (const ps of this.peers.values()) if (ps.ready && (ps.sent < this.seq || ps.ackDue)) return true;
    return false;
  }

  // ---- receiving ------------------------------------------------------------------------------

  /** A frame from `peer`'s replica. Never throws; bad frames are counted and dropped. */
  receive(peer: string, raw: unknown): Out<V>[] {
    const out: Out<V>[] = [];
    const m = parseSyncMsg<V>(raw, this.accept);
    if (m === null) {
      this.stats.malformed++;
      this.event('malformed', { peer });
      return out;
    }
    const ps = this.peers.get(peer);
    if (ps === undefined || m.o.peer !== peer) {
      this.stats.stale++;
      this.event('not_a_peer', { peer, origin: originKey(m.o) });
      return out;
    }
    if (ps.origin === null || m.o.inc > ps.origin.inc) {
      // A newer writer incarnation supersedes the old one: its entries go now.
      if (ps.origin !== null) this.dropOrigin(ps.origin);
      ps.origin = { peer: m.o.peer, inc: m.o.inc };
      ps.sent = 0;
      ps.acked = 0;
      ps.advertised = -1;
      ps.synced = false;
      ps.staging = null;
      ps.lastNack = NO_NACK;
      ps.snapAt = -1;
    } else if (m.o.inc < ps.origin.inc) {
      this.stats.stale++;
      this.event('stale_incarnation', { peer, origin: originKey(m.o), current: originKey(ps.origin) });
      return out;
    }
    ps.ready = true;
    const d = newDiff<V>();
    switch (m.t) {
      case 'hello':
        this.onHello(ps, m, out);
        break;
      case 'delta':
        this.onDelta(ps, m, out, d);
        break;
      case 'ack':
        if (m.up <= this.seq && m.up > ps.acked) {
          ps.acked = m.up;
          this.gcLog();
        }
        if (ps.snapAt >= 0 && m.up >= ps.snapAt) ps.snapAt = -1;
        break;
      case 'nack':
        if (m.have < 0 || m.have > this.seq) this.snapshot(ps, out);
        else this.ship(ps, m.have, out);
        break;
      case 'snap':
        this.onSnap(ps, m, out, d);
        break;
    }
    this.markSynced(ps);
    this.emit(d);
    return out;
  }

  // ---- internals -------------------------------------------------------------------------------

  private hello(ps: PeerSync<V>): Out<V> {
    const p = ps.origin === null ? undefined : this.parts.get(originKey(ps.origin));
    this.stats.hellosSent++;
    return {
      to: ps.peer,
      msg: { t: 'hello', o: this.self, up: this.seq, dg: this.own.digest, seen: p === undefined || ps.staging !== null ? null : { up: p.upTo, dg: p.digest } },
    };
  }

  private onHello(ps: PeerSync<V>, m: Extract<SyncMsg<V>, { t: 'hello' }>, out: Out<V>[]): void {
    if (m.up > ps.advertised) ps.advertised = m.up;
    // Their log, as we hold it: equal position but another digest means our copy is wrong.
    const p = this.parts.get(originKey(m.o));
    // We hold all of it: acknowledge. A peer whose ack from us was lost stays out of sync (it
    // HELLOs every round) until an ack tells it we have everything.
    if (p !== undefined && m.up > 0 && p.upTo === m.up && m.dg === p.digest) ps.ackDue = true;
    if (p !== undefined && ps.staging === null && m.up === p.upTo && m.dg !== p.digest) {
      this.stats.repairs++;
      this.event('repair', { peer: ps.peer, up: p.upTo });
      this.nack(ps, -1, out);
    }
    // Behind on their log needs no request here: they repair us from the `seen` of our own HELLOs.
    // Our log, as they hold it: they are the judge of what they miss.
    const seen = m.seen;
    const have = seen === null ? 0 : seen.up;
    ps.acked = Math.min(have, this.seq);
    if (seen !== null && (seen.up > this.seq || (seen.up === this.seq && seen.dg !== this.own.digest))) {
      this.stats.repairs++;
      this.event('peer_copy_diverged', { peer: ps.peer, up: seen.up });
      this.snapshot(ps, out);
    } else if (ps.snapAt >= 0 && have < ps.snapAt && this.ticks - ps.snapTick < 2) {
      // Our snapshot is on its way (their HELLO crossed it, e.g. the one answering ours): another
      // would double the traffic of a join. Deltas past it go with `flush`; a lost snapshot is
      // sent again on their NACK, or on a HELLO after two of our ticks.
    } else if (have < this.seq) {
      this.ship(ps, have, out);
    } else {
      ps.sent = this.seq;
      // They know nothing of us and we have nothing to ship: they learn our
      // position only from a HELLO, and ours may have been lost (sent before
      // their replica existed), so answer now instead of at our next tick.
      // Our answer carries a view of them (the partition exists), so it
      // never draws another answer.
      if (seen === null && ps.staging === null) {
        this.partition(m.o);
        out.push(this.hello(ps));
      }
    }
  }

  private onDelta(ps: PeerSync<V>, m: Extract<SyncMsg<V>, { t: 'delta' }>, out: Out<V>[], d: Diff<V>): void {
    if (ps.staging !== null) {
      if (ps.staging.queued.length >= this.maxQueued) {
        this.abortStaging(ps, 'queue_full', out);
        return;
      }
      ps.staging.queued.push(m);
      return;
    }
    const p = this.partition(m.o);
    if (m.to <= p.upTo) {
      this.stats.duplicates++;
      ps.ackDue = true;
      return;
    }
    if (m.from > p.upTo) {
      this.stats.gaps++;
      this.event('gap', { peer: ps.peer, have: p.upTo, from: m.from });
      this.nack(ps, p.upTo, out);
      return;
    }
    const ops = m.from === p.upTo ? m.ops : m.ops.slice(p.upTo - m.from);
    if (!validSequence(p, ops)) {
      this.stats.malformed++;
      this.event('bad_op_sequence', { peer: ps.peer, from: m.from, to: m.to });
      this.nack(ps, -1, out);
      return;
    }
    for (const op of ops) this.applyOp(p, op, d);
    // What a peer ships tells its log position as well as a HELLO does (its HELLO may have been lost).
    if (m.to > ps.advertised) ps.advertised = m.to;
    this.stats.deltasApplied++;
    this.stats.opsApplied += ops.length;
    ps.ackDue = true;
    ps.lastNack = NO_NACK;
  }

  private onSnap(ps: PeerSync<V>, m: Extract<SyncMsg<V>, { t: 'snap' }>, out: Out<V>[], d: Diff<V>): void {
    let st = ps.staging;
    if (m.i === 0) {
      if (st !== null) {
        this.stats.snapshotsAborted++;
        this.event('snapshot_superseded', { peer: ps.peer, sid: st.sid });
      }
      st = ps.staging = { sid: m.sid, up: m.up, n: m.n, next: 1, tickNext: 0, rows: m.rows.slice(), queued: st?.queued ?? [] };
    } else {
      if (st === null || st.sid !== m.sid || st.up !== m.up || st.n !== m.n || st.next !== m.i) {
        if (st === null) {
          // A chunk of a snapshot whose start we never saw: useless on its own.
          this.stats.snapshotsAborted++;
          this.event('snapshot_chunk_out_of_order', { peer: ps.peer, sid: m.sid, i: m.i });
          this.nack(ps, -1, out);
        } else {
          this.abortStaging(ps, 'chunk_out_of_order', out);
        }
        return;
      }
      for (const r of m.rows) st.rows.push(r);
      st.next++;
    }
    if (st.next < st.n) return;
    ps.staging = null;
    const queued = st.queued;
    if (!this.commitSnapshot(ps, st, m.count, m.dg, d)) this.nack(ps, -1, out);
    for (const q of queued) this.onDelta(ps, q, out, d);
  }

  /** Replaces the origin's partition with a complete snapshot, atomically; false if it is inconsistent. */
  private commitSnapshot(ps: PeerSync<V>, st: Staging<V>, count: number, dg: number, d: Diff<V>): boolean {
    const origin = ps.origin!;
    const rows = new Map<number, WireEntry<V>>();
    let digest = 0;
    for (const r of st.rows) {
      if (r[0] > st.up || r[3] > st.up || r[3] < r[0] || rows.has(r[0])) {
        rows.clear();
        break;
      }
      rows.set(r[0], r);
      digest ^= entryHash(r[0], r[1], r[3]);
    }
    if (rows.size !== count || st.rows.length !== count || (digest >>> 0) !== (dg >>> 0)) {
      this.stats.snapshotsAborted++;
      this.stats.malformed++;
      this.event('snapshot_inconsistent', { peer: ps.peer, sid: st.sid, rows: st.rows.length, count });
      return false;
    }
    const p = this.partition(origin);
    if (st.up < p.upTo) {
      // Older than what we already integrated (reordered): never go back.
      this.stats.stale++;
      return true;
    }
    for (const [id, e] of p.live) {
      const r = rows.get(id);
      if (r === undefined) {
        p.live.delete(id);
        this.unindex(e);
        d.removed.push(e);
      } else if (r[3] !== e.ver) {
        e.value = this.adopted(r[2], p.origin);
        e.ver = r[3];
        e.h = entryShare(e.id, e.key, e.ver);
        d.updated.push(e);
      }
    }
    for (const [id, r] of rows) {
      if (p.live.has(id)) continue;
      const e: Entry<V> = { origin: p.origin, id, key: r[1], value: this.adopted(r[2], p.origin), ver: r[3], h: entryShare(id, r[1], r[3]) };
      p.live.set(id, e);
      this.index(e);
      d.added.push(e);
    }
    p.upTo = st.up;
    p.digest = digest >>> 0;
    if (st.up > ps.advertised) ps.advertised = st.up;
    this.stats.snapshotsApplied++;
    ps.ackDue = true;
    ps.lastNack = NO_NACK;
    return true;
  }

  private abortStaging(ps: PeerSync<V>, why: string, out: Out<V>[]): void {
    this.stats.snapshotsAborted++;
    this.event('snapshot_aborted', { peer: ps.peer, why });
    ps.staging = null;
    this.nack(ps, -1, out);
  }

  private nack(ps: PeerSync<V>, have: number, out: Out<V>[]): void {
    if (ps.lastNack === have) return;
    ps.lastNack = have;
    this.stats.nacksSent++;
    out.push({ to: ps.peer, msg: { t: 'nack', o: this.self, have } });
  }

  /** Sends ops `(from, seq]` as deltas, or a snapshot when the log no longer has them or a snapshot is smaller. */
  private ship(ps: PeerSync<V>, from: number, out: Out<V>[]): void {
    const n = this.seq - from;
    if (n <= 0) return;
    if (!this.log.covers(from) || n > 2 * this.own.live.size + 64) {
      this.snapshot(ps, out);
      return;
    }
    for (let at = from; at < this.seq; ) {
      const ops = this.log.slice(at, this.maxOpsPerDelta);
      const to = at + ops.length;
      out.push({ to: ps.peer, msg: { t: 'delta', o: this.self, from: at, to, ops } });
      this.stats.deltasSent++;
      at = to;
    }
    ps.sent = this.seq;
  }

  private snapshot(ps: PeerSync<V>, out: Out<V>[]): void {
    const rows: WireEntry<V>[] = [];
    for (const e of this.own.live.values()) rows.push([e.id, e.key, e.value, e.ver]);
    const n = Math.max(1, Math.ceil(rows.length / this.chunkSize));
    const sid = ++this.sid;
    for (let i = 0; i < n; i++) {
      const part = rows.slice(i * this.chunkSize, (i + 1) * this.chunkSize);
      out.push({ to: ps.peer, msg: { t: 'snap', o: this.self, sid, up: this.seq, i, n, rows: part, count: rows.length, dg: this.own.digest } });
    }
    this.stats.snapshotsSent++;
    ps.sent = this.seq;
    ps.snapAt = this.seq;
    ps.snapTick = this.ticks;
  }

  private markSynced(ps: PeerSync<V>): void {
    if (ps.synced || ps.origin === null || ps.staging !== null) return;
    const p = this.parts.get(originKey(ps.origin));
    if (ps.advertised >= 0 && (p?.upTo ?? 0) >= ps.advertised) {
      ps.synced = true;
      this.onPeerSynced?.(ps.peer);
    }
  }

  private partition(o: WriterIncarnation): Partition<V> {
    const k = originKey(o);
    let p = this.parts.get(k);
    if (p === undefined) this.parts.set(k, (p = new Partition<V>({ peer: o.peer, inc: o.inc })));
    return p;
  }

  private dropOrigin(o: WriterIncarnation): void {
    const k = originKey(o);
    const p = this.parts.get(k);
    if (p === undefined || p === this.own) return;
    this.parts.delete(k);
    const d = newDiff<V>();
    d.dropped = p.origin;
    for (const e of p.live.values()) {
      this.unindex(e);
      d.removed.push(e);
    }
    this.emit(d);
  }

  private applyOp(p: Partition<V>, op: WireOp<V>, d: Diff<V>): void {
    const seq = op[0];
    if (op[1] === OP_ADD) {
      const e: Entry<V> = { origin: p.origin, id: seq, key: op[2], value: p === this.own ? op[3] : this.adopted(op[3], p.origin), ver: seq, h: entryShare(seq, op[2], seq) };
      p.live.set(seq, e);
      p.digest = (p.digest ^ e.h) >>> 0;
      this.index(e);
      d.added.push(e);
    } else if (op[1] === OP_RM) {
      const e = p.live.get(op[2])!;
      p.live.delete(op[2]);
      p.digest = (p.digest ^ e.h) >>> 0;
      this.unindex(e);
      d.removed.push(e);
    } else {
      const e = p.live.get(op[2])!;
      p.digest = (p.digest ^ e.h) >>> 0;
      e.value = p === this.own ? op[3] : this.adopted(op[3], p.origin);
      e.ver = seq;
      e.h = entryShare(e.id, e.key, seq);
      p.digest = (p.digest ^ e.h) >>> 0;
      d.updated.push(e);
    }
    p.upTo = seq;
  }

  private adopted(v: V, o: WriterIncarnation): V {
    return this.adopt === undefined ? v : this.adopt(v, o);
  }

  private index(e: Entry<V>): void {
    const x = this.byKey.get(e.key);
    if (x === undefined) this.byKey.set(e.key, e);
    else if (x instanceof Set) x.add(e);
    else this.byKey.set(e.key, new Set([x, e]));
  }

  private unindex(e: Entry<V>): void {
    const x = this.byKey.get(e.key);
    if (x === undefined) return;
    if (!(x instanceof Set)) {
      if (x === e) this.byKey.delete(e.key);
      return;
    }
    x.delete(e);
    if (x.size === 1) this.byKey.set(e.key, x.values().next().value!);
    else if (x.size === 0) this.byKey.delete(e.key);
  }

  private emit(d: Diff<V>): void {
    if (this.onDiff === undefined || (d.added.length === 0 && d.removed.length === 0 && d.updated.length === 0)) return;
    this.onDiff(d);
  }

  private event(e: string, data: Record<string, unknown>): void {
    this.onEvent?.(e, data);
  }
}

function newDiff<V>(): Diff<V> {
  return { added: [], removed: [], updated: [] };
}

function newPeer<V>(peer: string): PeerSync<V> {
  return { peer, origin: null, ready: false, sent: 0, acked: 0, advertised: -1, synced: false, ackDue: false, lastNack: NO_NACK, staging: null, snapAt: -1, snapTick: 0 };
}

/** Every remove/update names an entry live at that point of the interval (adds never collide: ids are fresh seqs). */
function validSequence<V>(p: Partition<V>, ops: readonly WireOp<V>[]): boolean {
  let added: Set<number> | null = null;
  let removed: Set<number> | null = null;
  for (const op of ops) {
    if (op[1] === OP_ADD) {
      (added ??= new Set()).add(op[0]);
      continue;
    }
    const t = op[2];
    const live = (p.live.has(t) || added?.has(t) === true) && removed?.has(t) !== true;
    if (!live || t >= op[0]) return false;
    if (op[1] === OP_RM) (removed ??= new Set()).add(t);
  }
  return true;
}
