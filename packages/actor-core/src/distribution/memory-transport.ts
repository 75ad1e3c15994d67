import { Pid, Ref } from '../pid.js';
import { BadArgError } from '../errors.js';
import type { Node } from '../node.js';
import { SignalCodec } from './codec.js';
import type { Signal, Transport, TransportPort } from './signals.js';
import { VirtualTime, type Stamp } from './virtual-time.js';

export interface MemoryNetworkOptions {
  /**
   * `true` (default): every signal is encoded with the wire codec when sent
   * and decoded when delivered, so tests prove it survives serialization and
   * the receiver gets a copy. `false`: signals are deep-copied with fresh
   * Pids/Refs but not serialized (faster; functions and Maps pass through).
   */
  codec?: boolean;
  /**
   * Simulated time (`net.clock`): each node's clock advances by the CPU
   * time of its own work only, as if it had a core of its own, and a signal
   * is handled no earlier than it was sent plus `latencyMs` (default 0.1).
   * For figures of many nodes in one thread; see `VirtualTime`.
   */
  virtualTime?: boolean | { latencyMs?: number };
}

/** Counters for one direction of one connection. */
export interface LaneStats {
  /** Signals accepted for sending. */
  sent: number;
  /** Signals handed to the receiving node. */
  delivered: number;
  /** Encoded bytes sent (codec mode). */
  bytes: number;
  /** Signals waiting (in flight, or held by `pause`). */
  queued: number;
  paused: boolean;
}

export interface DisconnectOptions {
  /** Lose the signals in flight instead of delivering them first (an abrupt cut). */
  drop?: boolean;
}

interface Closing {
  readonly reason: string;
  readonly done: () => void;
  /** When the cut reaches the other side (virtual time only). */
  readonly at: Stamp | null;
}

/** One direction of one connection: its own FIFO, delivered on a later macrotask. */
class Lane {
  readonly q: (Uint8Array | Signal)[] = [];
  /** Send stamps, parallel to `q` (virtual time only). */
  readonly at: Stamp[] = [];
  head = 0;
  paused = false;
  scheduled = false;
  sent = 0;
  delivered = 0;
  bytes = 0;
  closing: Closing | null = null;

  constructor(
    readonly from: Node,
    readonly to: Node,
  ) {}

  get queued(): number {
    return this.q.length - this.head;
  }
}

/** The `Transport` a `MemoryNetwork` attaches to each of its nodes. */
export class MemoryTransport implements Transport {
  /** @internal The node's side, set when the network attaches this transport. */
  port: TransportPort | null = null;

  constructor(
    private readonly net: MemoryNetwork,
    readonly node: Node,
  ) {}

  sendSignal(node: string, signal: Signal): boolean {
    return this.net.enqueue(this.node, node, signal);
  }

  close(): void {
    void this.net.remove(this.node);
  }
}

type NodeRef = Node | string;

/** Signals delivered per lane per macrotask before the lane yields (fairness between lanes). */
const BATCH = 4096;

/**
 * Several `Node`s in one process, connected as if by a network: per-pair,
 * per-direction FIFOs delivered asynchronously (a `setImmediate` turn, never
 * synchronous re-entry), `nodeup` on connect, `nodedown` after the in-flight
 * signals on disconnect. Test hooks: `pause`/`resume` a direction, `stats`,
 * `settled`, and `tap` to observe every delivered signal.
 */
export class MemoryNetwork {
  private readonly endpoints = new Map<string, MemoryTransport>();
  /** A node keeps its transport object for life (`Distribution.attach` takes one). */
  private readonly transports = new WeakMap<Node, MemoryTransport>();
  private readonly lanes = new Map<string, Lane>();
  private readonly codec: SignalCodec | null;
  /** Sees every signal as it is delivered (after decoding). */
  tap: ((from: string, to: string, signal: Signal) => void) | null = null;
  /** The nodes' simulated clocks, with the `virtualTime` option (else null). */
  readonly clock: VirtualTime | null;

  constructor(opts: MemoryNetworkOptions = {}) {
    this.codec = opts.codec === false ? null : new SignalCodec();
    const vt = opts.virtualTime;
    this.clock = vt === undefined || vt === false ? null : new VirtualTime(vt === true ? 0.1 : (vt.latencyMs ?? 0.1));
  }

  /** Attaches this network as `node`'s transport. Node names must be unique on the network. */
  add(node: Node): MemoryTransport {
    const have = this.endpoints.get(node.name);
    if (have !== undefined) {
      if (have.node === node) return have;
      throw new BadArgError(`memory network: a node named ${node.name} is already on it (remove it first)`);
    }
    let t = this.transports.get(node);
    if (t === undefined) this.transports.set(node, (t = new MemoryTransport(this, node)));
    t.port = node.dist.attach(t);
    this.endpoints.set(node.name, t);
    const clock = this.clock;
    if (clock !== null) {
      const name = node.name;
      node.sched.meter = { begin: () => clock.begin(name), end: () => clock.end() };
    }
    return t;
  }

  /**
   * Takes `node` off the network: every connection closes (peers get
   * `nodedown` with `reason` after its in-flight signals). A node that shuts
   * down does this itself.
   */
  remove(node: NodeRef, reason = 'connection_closed'): Promise<void> {
    const name = nameOf(node);
    const ep = this.endpoints.get(name);
    if (ep === undefined) return Promise.resolve();
    const downs: Promise<void>[] = [];
    for (const lane of [...this.lanes.values()]) {
      if (lane.from.name === name && lane.closing === null) downs.push(this.disconnect(name, lane.to.name, reason));
    }
    this.endpoints.delete(name);
    return Promise.all(downs).then(() => undefined);
  }

  /** Connects two nodes (both `add`ed): each sees `nodeup` for the other, with its creation. No-op if connected. */
  connect(a: Node, b: Node): void {
    if (a.name === b.name) throw new BadArgError(`memory network: cannot connect ${a.name} to itself`);
    for (const n of [a, b]) if (this.endpoints.get(n.name)?.node !== n) this.add(n);
    const ab = key(a.name, b.name);
    const ba = key(b.name, a.name);
    const l1 = this.lanes.get(ab);
    const l2 = this.lanes.get(ba);
    // Lanes still closing that belong to an earlier incarnation (a restarted node) may be
    // replaced: they finish on their own, and `nodeUp` reports nodedown before the new nodeup.
    const same = (l: Lane | undefined): boolean => l !== undefined && (l.from === a || l.from === b) && (l.to === a || l.to === b);
    if (same(l1) || same(l2)) {
      if (l1?.closing || l2?.closing) throw new BadArgError(`memory network: ${a.name} and ${b.name} are disconnecting; await disconnect() first`);
      return;
    }
    if ((l1 !== undefined && l1.closing === null) || (l2 !== undefined && l2.closing === null)) {
      throw new BadArgError(`memory network: another incarnation of ${a.name} or ${b.name} is still connected`);
    }
    this.lanes.set(ab, new Lane(a, b));
    this.lanes.set(ba, new Lane(b, a));
    this.portOf(a).nodeUp(b.name, b.creation);
    this.portOf(b).nodeUp(a.name, a.creation);
  }

  /** Connects every pair of the given nodes. */
  mesh(...nodes: Node[]): void {
    for (let i = 0; i < nodes.length; i++) for (let j = i + 1; j < nodes.length; j++) this.connect(nodes[i]!, nodes[j]!);
  }

  isConnected(a: NodeRef, b: NodeRef): boolean {
    const l = this.lanes.get(key(nameOf(a), nameOf(b)));
    return l !== undefined && l.closing === null;
  }

  /**
   * Cuts the connection: nothing more is accepted in either direction; each
   * side gets `nodedown` (with `reason`) after the signals already in flight
   * to it (those are delivered even through a paused direction, unless
   * `drop`). Resolves when both sides have seen it.
   */
  disconnect(a: NodeRef, b: NodeRef, reason = 'disconnect', opts: DisconnectOptions = {}): Promise<void> {
    const an = nameOf(a);
    const bn = nameOf(b);
    const lanes = [this.lanes.get(key(an, bn)), this.lanes.get(key(bn, an))].filter((l): l is Lane => l !== undefined && l.closing === null);
    return Promise.all(
      lanes.map(
        (lane) =>
          new Promise<void>((done) => {
            lane.closing = { reason, done, at: this.clock?.stampOf(lane.from.name) ?? null };
            if (opts.drop) {
              lane.q.length = 0;
              lane.at.length = 0;
              lane.head = 0;
            }
            lane.paused = false;
            this.schedule(lane);
          }),
      ),
    ).then(() => undefined);
  }

  /** Holds signals from `from` to `to` (they queue) until `resume`. */
  pause(from: NodeRef, to: NodeRef): void {
    this.lane(from, to).paused = true;
  }

  resume(from: NodeRef, to: NodeRef): void {
    const lane = this.lane(from, to);
    lane.paused = false;
    this.schedule(lane);
  }

  stats(from: NodeRef, to: NodeRef): LaneStats {
    const l = this.lane(from, to);
    return { sent: l.sent, delivered: l.delivered, bytes: l.bytes, queued: l.queued, paused: l.paused };
  }

  /** Resolves once no unpaused direction has signals in flight (bounded by `timeoutMs`). */
  async settled(timeoutMs = 2000): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      let busy = false;
      for (const l of this.lanes.values()) if (!l.paused && l.queued > 0) busy = true;
      if (!busy) return;
      if (Date.now() > end) throw new Error('memory network: signals still in flight');
      await new Promise((r) => setImmediate(r));
    }
  }

  /** @internal Called by a node's transport. */
  enqueue(from: Node, to: string, s: Signal): boolean {
    const lane = this.lanes.get(key(from.name, to));
    if (lane === undefined || lane.closing !== null || lane.from !== from) return false;
    // Encoded now, not at delivery: the receiver gets the message as it was when sent.
    let frame: Uint8Array | Signal;
    if (this.codec !== null) {
      frame = this.codec.encode(s);
      lane.bytes += frame.length;
    } else {
      frame = copy(s) as Signal;
    }
    lane.q.push(frame);
    if (this.clock !== null) lane.at.push(this.clock.stampOf(from.name));
    lane.sent++;
    this.schedule(lane);
    return true;
  }

  private lane(from: NodeRef, to: NodeRef): Lane {
    const l = this.lanes.get(key(nameOf(from), nameOf(to)));
    if (l === undefined) throw new BadArgError(`memory network: ${nameOf(from)} is not connected to ${nameOf(to)}`);
    return l;
  }

  /** The port of `node`'s transport on this network (every node with a lane was added). */
  private portOf(node: Node): TransportPort {
    return this.transports.get(node)!.port!;
  }

  private schedule(lane: Lane): void {
    if (lane.scheduled || lane.paused) return;
    if (lane.queued === 0 && lane.closing === null) return;
    lane.scheduled = true;
    setImmediate(() => this.flush(lane));
  }

  private flush(lane: Lane): void {
    const clock = this.clock;
    if (clock === null) return this.deliver(lane, null);
    clock.begin(lane.to.name);
    try {
      this.deliver(lane, clock);
    } finally {
      clock.end();
    }
  }

  private deliver(lane: Lane, clock: VirtualTime | null): void {
    lane.scheduled = false;
    const to = lane.to;
    const from = lane.from.name;
    let n = BATCH;
    while (n-- > 0 && !lane.paused && lane.head < lane.q.length) {
      const frame = lane.q[lane.head]!;
      if (clock !== null) clock.arrive(lane.at[lane.head]!);
      lane.q[lane.head++] = undefined as unknown as Signal; // let it be collected
      let s: Signal;
      if (frame instanceof Uint8Array) {
        const r = this.codec!.decode(frame, { local: to.name, peer: from, peerCreation: lane.from.creation });
        if (!r.ok) {
          to.logger.warn('memory network: undecodable frame dropped', { from, error: r.error.message });
          continue;
        }
        s = r.signal;
      } else {
        s = frame;
      }
      lane.delivered++;
      this.tap?.(from, to.name, s);
      this.portOf(to).handle(from, s);
    }
    if (lane.head === lane.q.length) {
      lane.q.length = 0;
      lane.at.length = 0;
      lane.head = 0;
    } else if (lane.head > 1024 && lane.head * 2 > lane.q.length) {
      lane.q.splice(0, lane.head);
      if (clock !== null) lane.at.splice(0, lane.head);
      lane.head = 0;
    }
    if (lane.queued > 0) {
      this.schedule(lane);
      return;
    }
    if (lane.closing !== null) {
      if (this.lanes.get(key(from, to.name)) === lane) this.lanes.delete(key(from, to.name));
      const c = lane.closing;
      lane.closing = { reason: c.reason, done: () => {}, at: c.at }; // report once
      if (c.at !== null) clock?.arrive(c.at);
      this.portOf(to).nodeDown(from, c.reason);
      c.done();
    }
  }
}

function key(from: string, to: string): string {
  return `${from}\u0000${to}`;
}

function nameOf(n: NodeRef): string {
  return typeof n === 'string' ? n : n.name;
}

/**
 * A deep copy in which every Pid and Ref is a fresh object, so a pid never
 * carries another node's process cache across (codec-off mode).
 */
function copy(v: unknown, seen = new Map<object, unknown>()): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (v instanceof Pid) return new Pid(v.node, v.id, v.creation);
  if (v instanceof Ref) return new Ref(v.node, v.id, v.creation);
  const done = seen.get(v);
  if (done !== undefined) return done;
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    seen.set(v, out);
    for (const x of v) out.push(copy(x, seen));
    return out;
  }
  if (v instanceof Map) {
    const out = new Map<unknown, unknown>();
    seen.set(v, out);
    for (const [k, x] of v) out.set(copy(k, seen), copy(x, seen));
    return out;
  }
  if (v instanceof Set) {
    const out = new Set<unknown>();
    seen.set(v, out);
    for (const x of v) out.add(copy(x, seen));
    return out;
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) return v; // class instances, Dates, buffers: by reference
  const out: Record<string, unknown> = {};
  seen.set(v, out);
  for (const k of Object.keys(v)) out[k] = copy((v as Record<string, unknown>)[k], seen);
  return out;
}
