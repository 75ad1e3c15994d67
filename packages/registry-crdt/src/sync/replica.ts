import { GenServer, isDownMessage, type ExitReason, type Node, type Pid, type ProcessContext, type Ref } from '@troupe/actor-core';
import { SyncEngine } from '../crdt/engine.js';
import type { EngineOptions } from '../crdt/engine-options.js';
import type { SyncStats } from '../crdt/stats.js';
import type { Diff, WriterIncarnation, Out } from '../crdt/types.js';
import type { ValueCheck } from '../crdt/validate.js';
import type { MemberEvents, MemberInfo, MemberSource } from '../membership/types.js';
import { isEnvelope, serverName, type Envelope } from './envelope.js';
import { RoundClock } from './round-clock.js';

/** Timing of a replica; the defaults suit a LAN cluster of tens of nodes. */
export interface ReplicaTiming {
  /**
   * Micro-batch window for pushing local changes (default 5 ms): a change
   * after a quiet window goes out at once (after the messages already
   * queued); later ones wait until the window since the last push is over.
   */
  flushDelayMs?: number;
  /**
   * Anti-entropy period (default 5000 ms): each round sends a HELLO to the
   * peers not known to be in sync (unacknowledged ops either way, a sync or
   * snapshot under way). Rounds fall on the wall clock at the node's own
   * phase (see `RoundClock`).
   */
  antiEntropyMs?: number;
  /**
   * How often a round goes to every peer, in sync or not, so a copy that
   * diverged at equal positions (its digest differs) is found (default
   * 60000 ms, rounded to whole anti-entropy rounds). In sync peers are
   * otherwise left alone: a HELLO to each peer of each replica every round
   * was most of what an idle node spent (about 0.5% of a core at 16 nodes).
   */
  antiEntropyFullMs?: number;
  /** How long to wait for members that do not answer before declaring ourselves ready (default 500 ms). */
  discoveryMs?: number;
}

/** The timing fields of a service's options (which carry others too), without the undefined ones. */
export function replicaTiming(o: ReplicaTiming): ReplicaTiming {
  const t: ReplicaTiming = {};
  if (o.flushDelayMs !== undefined) t.flushDelayMs = o.flushDelayMs;
  if (o.antiEntropyMs !== undefined) t.antiEntropyMs = o.antiEntropyMs;
  if (o.antiEntropyFullMs !== undefined) t.antiEntropyFullMs = o.antiEntropyFullMs;
  if (o.discoveryMs !== undefined) t.discoveryMs = o.discoveryMs;
  return t;
}

export interface ReplicaOptions<V> extends ReplicaTiming {
  node: Node;
  /** Service key (kind, name and partition): peers must use the same. */
  service: string;
  members: MemberSource;
  acceptValue: ValueCheck;
  /** Stored form of a peer's value (see `EngineOptions.adopt`). */
  adopt?: (value: V, origin: WriterIncarnation) => V;
  onDiff?: (d: Diff<V>) => void;
  /** A member became `alive` (synced), or this replica became ready: what `aliveNodes()` returns grew. */
  onAlive?: () => void;
  /**
   * Whether a local pid is one the service watches, for services that index
   * their pids anyway (the Registry): the replica then keeps no set of its
   * own (one hash-table slot less per name).
   */
  tracks?: (pid: Pid) => boolean;
  /** A watched local process ended. */
  onLocalDown?: (pid: Pid, reason: ExitReason) => void;
  engine?: Pick<EngineOptions<V>, 'maxLogOps' | 'maxOpsPerDelta' | 'chunkSize' | 'maxQueuedDeltas'>;
}

/** Counters of a replica: the engine's, plus frames refused before reaching it. */
export interface ReplicaStats extends SyncStats {
  framesIn: number;
  framesOut: number;
}

type Internal = { $rci: 'flush' } | { $rci: 'ae' } | { $rci: 'check' } | { $rci: 'down'; pid: Pid; reason: ExitReason };

function isInternal(m: unknown): m is Internal {
  return typeof m === 'object' && m !== null && typeof (m as { $rci?: unknown }).$rci === 'string';
}

const FLUSH: Internal = { $rci: 'flush' };
const MAX_DEAD = 1024;

/**
 * One node's replica of one service: a process (a GenServer registered as
 * `troupe.replica:<service>`) hosting a `SyncEngine`, plus the synchronous
 * face the service objects use (they write the engine directly — only ever
 * their own node's entries — and `touch()` to get the change pushed).
 *
 * The process carries frames between the engine and the peers' replica
 * servers, runs the flush (micro-batch) and anti-entropy timers, follows the
 * member source, monitors peer servers (pg's rule: a peer's entries go when
 * its server goes) and watches local processes whose entries must die with
 * them.
 */
export class Replica<V> {
  readonly node: Node;
  readonly service: string;
  readonly name: string;
  private engineRef: SyncEngine<V> | null = null;
  private pidRef: Pid | null = null;
  private ctx: ProcessContext | null = null;
  private flushArmed = false;
  /** When the last push went out (performance.now()); -Infinity before the first. */
  private lastFlush = -Infinity;
  /** The discovery window passed: members that never answered no longer hold back readiness. */
  private discoveryOver = false;
  private isReady = false;
  private running = false;
  private readonly waiters: (() => void)[] = [];
  private readonly peerPids = new Map<string, { pid: Pid; ref: Ref }>();
  /**
   * Ids of watched local processes (their node and creation are ours). One
   * node-wide exit listener instead of a monitor per process: a monitor
   * costs ~500 B of heap per registered name (Ref, Monitor, two map slots).
   */
  private readonly watched = new Set<number>();
  private readonly onExit = (e: { pid: Pid; reason: ExitReason }): void => {
    if (e.pid.node !== this.node.name || e.pid.creation !== this.node.creation) return;
    const tracks = this.opts.tracks;
    if (tracks === undefined ? this.watched.delete(e.pid.id) : tracks(e.pid)) this.localDown(e.pid, e.reason);
  };
  private readonly dead = new Map<string, number>();
  private readonly pendingHello = new Map<string, Envelope>();
  private framesIn = 0;
  private framesOut = 0;
  private refused = { malformed: 0, stale: 0 };
  private readonly flushDelayMs: number;
  private readonly rounds: RoundClock;
  private readonly discoveryMs: number;
  private readonly events: MemberEvents;

  private constructor(private readonly opts: ReplicaOptions<V>) {
    this.node = opts.node;
    this.service = opts.service;
    this.name = serverName(opts.service);
    this.flushDelayMs = opts.flushDelayMs ?? 5;
    const antiEntropyMs = opts.antiEntropyMs ?? 5000;
    this.rounds = new RoundClock(this.node.name, antiEntropyMs, Math.max(1, Math.round((opts.antiEntropyFullMs ?? 60_000) / antiEntropyMs)));
    this.discoveryMs = opts.discoveryMs ?? 500;
    this.events = {
      up: (n) => this.memberUp(n),
      down: (n, reason) => this.memberDown(n, reason),
    };
  }

  /** Starts the replica server; rejects if this service already runs on the node. */
  static async start<V>(opts: ReplicaOptions<V>): Promise<Replica<V>> {
    const r = new Replica<V>(opts);
    const res = await GenServer.start(opts.node, server as GenServer<Replica<unknown>, never, never, null, unknown, Replica<unknown>>, r as Replica<unknown>, { name: r.name });
    if (typeof res !== 'object' || !('ok' in res)) {
      throw new Error(`cannot start replica of ${opts.service} on ${opts.node.name}: ${JSON.stringify(res)}`);
    }
    return r;
  }

  // ---- the synchronous face ----------------------------------------------------------

  /** The engine; throws once the replica has stopped (services map that to `registry_unavailable`). */
  get engine(): SyncEngine<V> {
    if (this.engineRef === null || !this.running) throw new Error(`replica ${this.service} on ${this.node.name} is not running`);
    return this.engineRef;
  }

  get alive(): boolean {
    return this.running;
  }

  get pid(): Pid {
    return this.pidRef!;
  }

  /** Local entries changed: push them within the flush window (leading edge: at once after a quiet window). */
  touch(): void {
    if (this.flushArmed || !this.running) return;
    this.flushArmed = true;
    const wait = this.flushDelayMs - (performance.now() - this.lastFlush);
    // Through the mailbox even when due now: changes made by messages already queued join this push.
    if (wait <= 0) this.node.send(this.pidRef!, FLUSH);
    else this.node.sendAfter(Math.ceil(wait), this.pidRef!, FLUSH); // timers take whole ms (badarg otherwise)
  }

  /** Have `onLocalDown` called when local `pid` ends (once per pid). */
  watch(pid: Pid): void {
    if (!this.running) return;
    if (!this.node.isAlive(pid)) this.localDown(pid, 'noproc');
    else if (this.opts.tracks === undefined) this.watched.add(pid.id);
  }

  /** Runs `onLocalDown` in the replica process (as a monitor's DOWN would), never inside the exiting process's termination. */
  private localDown(pid: Pid, reason: ExitReason): void {
    this.node.send(this.pidRef!, { $rci: 'down', pid, reason } satisfies Internal);
  }

  /** Initial sync done: every member that answered is synced (and the discovery window passed or all answered). */
  ready(): boolean {
    return this.running && this.isReady;
  }

  /** Resolves true once ready, false after `timeoutMs` or if the replica stops. */
  whenReady(timeoutMs = 5000): Promise<boolean> {
    if (this.ready()) return Promise.resolve(true);
    if (!this.running) return Promise.resolve(false);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(this.ready()), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve(this.ready());
      });
    });
  }

  /** Member nodes and their status, this node first. */
  members(): MemberInfo[] {
    const out: MemberInfo[] = [];
    if (!this.running) return out;
    out.push({ node: this.node.name, status: this.isReady ? 'alive' : 'uninitialized', self: true, server: this.pidRef });
    const seen = new Set<string>([this.node.name]);
    for (const n of this.opts.members.nodes()) {
      if (seen.has(n)) continue;
      seen.add(n);
      const info = this.engineRef?.peerInfo(n);
      out.push({ node: n, status: info?.synced === true ? 'alive' : 'uninitialized', self: false, server: this.peerPids.get(n)?.pid ?? null });
    }
    for (const n of this.dead.keys()) if (!seen.has(n)) out.push({ node: n, status: 'dead', self: false, server: null });
    return out;
  }

  /** Nodes whose status is `alive` (placement targets), sorted. */
  aliveNodes(): string[] {
    // On every placement decision: no MemberInfo objects.
    if (!this.running) return [];
    const engine = this.engineRef!;
    const out = this.isReady ? [this.node.name] : [];
    for (const n of this.opts.members.nodes()) if (n !== this.node.name && engine.isSynced(n)) out.push(n);
    return out.sort();
  }

  stats(): ReplicaStats {
    const s = this.engineRef?.stats;
    const base = s === undefined ? ({} as SyncStats) : { ...s };
    base.malformed = (base.malformed ?? 0) + this.refused.malformed;
    base.stale = (base.stale ?? 0) + this.refused.stale;
    return { ...base, framesIn: this.framesIn, framesOut: this.framesOut };
  }

  /** Stops the server: local entries are gone for the peers (they see its DOWN). */
  async stop(): Promise<void> {
    if (!this.running) return;
    await GenServer.stop(this.node, this.pidRef!, 'shutdown');
  }

  // ---- the process side -----------------------------------------------------------------

  /** @internal */
  init(ctx: ProcessContext): void {
    this.ctx = ctx;
    this.pidRef = ctx.self;
    this.running = true;
    this.engineRef = new SyncEngine<V>({
      ...this.opts.engine,
      self: { peer: this.node.name, inc: ctx.self.id },
      acceptValue: this.opts.acceptValue,
      ...(this.opts.adopt === undefined ? {} : { adopt: this.opts.adopt }),
      onDiff: this.opts.onDiff,
      ...(this.opts.onAlive === undefined ? {} : { onPeerSynced: this.opts.onAlive }),
      // Routine protocol events are debug; rejected input and repairs are warnings.
      onEvent: (e, data) => {
        const msg = `replica ${this.service}: ${e}`;
        if (e === 'gap' || e === 'not_a_peer') this.node.logger.debug(msg, data);
        else this.node.logger.warn(msg, data);
      },
    });
    ctx.signal.addEventListener('abort', () => this.stopped(), { once: true });
    this.node.events.on('exit', this.onExit);
    this.opts.members.start(ctx, this.events);
    this.armAntiEntropy();
    ctx.sendAfter(this.discoveryMs, ctx.self, { $rci: 'check' } satisfies Internal);
    this.checkReady();
  }

  /** @internal */
  info(msg: unknown): void {
    const ctx = this.ctx!;
    if (isEnvelope(msg)) return this.onFrame(msg);
    if (isInternal(msg)) {
      switch (msg.$rci) {
        case 'flush':
          this.flushArmed = false;
          this.lastFlush = performance.now();
          this.out(this.engine.flush());
          return;
        case 'ae':
          this.out(this.engine.tick(this.rounds.isFull()));
          this.armAntiEntropy();
          return;
        case 'check':
          this.discoveryOver = true;
          this.checkReady();
          return;
        case 'down':
          this.opts.onLocalDown?.(msg.pid, msg.reason);
          return;
      }
    }
    if (isDownMessage(msg)) {
      const obj = msg.object;
      if (typeof obj === 'object' && obj !== null && 'id' in obj) {
        const pid = obj as Pid;
        const peer = this.peerPids.get(pid.node);
        if (peer !== undefined && peer.ref.equals(msg.ref)) {
          // The peer's server is gone (pg: its entries go with it); its node may start it again.
          this.peerPids.delete(pid.node);
          this.engine.removePeer(pid.node);
          if (this.opts.members.nodes().includes(pid.node)) this.out(this.engine.addPeer(pid.node));
          this.checkReady();
        }
      }
      return;
    }
    this.opts.members.handle(msg, this.events);
  }

  private onFrame(env: Envelope): void {
    this.framesIn++;
    const from = env.from;
    const n = from.node;
    if (env.$rc !== this.service || n === this.node.name || this.node.dist.creationOf(n) !== from.creation) {
      this.refused.stale++;
      return;
    }
    const o = (env.m as { o?: { inc?: unknown } } | null)?.o;
    if (typeof o !== 'object' || o === null || o.inc !== from.id) {
      this.refused.malformed++;
      return;
    }
    const engine = this.engine;
    if (!engine.hasPeer(n)) {
      // Not (yet) a member. A participant's HELLO can overtake the membership
      // event announcing it: keep its latest frame and replay it on memberUp.
      this.refused.stale++;
      if (this.pendingHello.size < MAX_DEAD || this.pendingHello.has(n)) this.pendingHello.set(n, env);
      return;
    }
    const known = this.peerPids.get(n);
    if (known === undefined || known.pid.id < from.id) {
      if (known !== undefined) this.ctx!.demonitor(known.ref, { flush: true });
      this.peerPids.set(n, { pid: from, ref: this.ctx!.monitor(from) });
    } else if (known.pid.id > from.id) {
      this.refused.stale++;
      return;
    }
    this.out(engine.receive(n, env.m));
    if (engine.pending) this.touch();
    this.checkReady();
  }

  private out(outs: Out<V>[]): void {
    const ctx = this.ctx!;
    for (const o of outs) {
      const dest = this.peerPids.get(o.to)?.pid ?? { name: this.name, node: o.to };
      const env: Envelope = { $rc: this.service, from: ctx.self, m: o.msg };
      this.framesOut++;
      ctx.send(dest, env);
    }
  }

  private memberUp(n: string): void {
    if (n === this.node.name) return;
    this.dead.delete(n);
    this.out(this.engine.addPeer(n));
    const early = this.pendingHello.get(n);
    if (early !== undefined) {
      this.pendingHello.delete(n);
      if (this.node.dist.creationOf(n) === early.from.creation) {
        this.refused.stale--;
        this.onFrame(early);
        this.framesIn--;
      }
    }
  }

  private memberDown(n: string, _reason: string): void {
    const p = this.peerPids.get(n);
    if (p !== undefined) {
      this.ctx!.demonitor(p.ref, { flush: true });
      this.peerPids.delete(n);
    }
    this.engine.removePeer(n);
    this.pendingHello.delete(n);
    this.dead.set(n, Date.now());
    if (this.dead.size > MAX_DEAD) this.dead.delete(this.dead.keys().next().value!);
    this.checkReady();
  }

  private armAntiEntropy(): void {
    this.ctx!.sendAfter(this.rounds.next(Date.now()), this.ctx!.self, { $rci: 'ae' } satisfies Internal);
  }

  private checkReady(): void {
    if (this.isReady || !this.running) return;
    const engine = this.engineRef!;
    const nodes = this.opts.members.nodes().filter((n) => n !== this.node.name);
    let allAnswered = true;
    for (const n of nodes) {
      const info = engine.peerInfo(n);
      if (info === undefined || !info.ready) {
        allAnswered = false;
        continue;
      }
      if (!info.synced) return;
    }
    if (!allAnswered && !this.discoveryOver) return;
    this.isReady = true;
    for (const w of this.waiters.splice(0)) w();
    this.opts.onAlive?.();
  }

  private stopped(): void {
    this.running = false;
    this.node.events.off('exit', this.onExit);
    this.watched.clear();
    this.isReady = false;
    for (const w of this.waiters.splice(0)) w();
  }

  /** @internal */
  terminate(ctx: ProcessContext): void {
    this.opts.members.stop?.(ctx);
  }
}

/** The replica server's callbacks: the state is the `Replica` itself. */
const server: GenServer<Replica<unknown>, never, never, null, unknown, Replica<unknown>> = {
  name: 'troupe.replica',
  init(r, ctx) {
    r.init(ctx);
    return { ok: r };
  },
  handleInfo(msg, r) {
    r.info(msg);
    return { noreply: r };
  },
  terminate(_reason, r, ctx) {
    r.terminate(ctx);
  },
};
