import { Pid, Ref } from '../pid.js';
import type { ExitReason } from '../exit-reason.js';
import { formatReason, reasonFromThrown } from '../exit-reason.js';
import { BadArgError, TroupeError } from '../errors.js';
import type {
  Behaviour,
  DownMessage,
  NodeDownMessage,
  NodeUpMessage,
  ProcessBody,
  ProcessContext,
  RemoteName,
  SpawnOptions,
} from '../types.js';
import type { Node } from '../node.js';
import { Status, type Monitor, type Proc } from '../internal/process.js';
import { CallEnvelope, type From } from '../internal/calls.js';
import type { PeerChannel, Signal, Transport } from './signals.js';
import type { DecodedFrame } from './codec.js';

/** What an exposed factory returns: a body or behaviour, optionally with spawn options. */
export type SpawnSpec =
  | ProcessBody<unknown>
  | Behaviour<unknown, unknown>
  | { body: ProcessBody<unknown> | Behaviour<unknown, unknown>; opts?: SpawnOptions };

/**
 * Builds a process for a spawn request from another node. `args` come from
 * the peer: validate them. Throwing refuses the spawn (`spawn_failed`).
 */
export type SpawnFactory = (args: readonly unknown[], info: { readonly from: Pid | null; readonly node: string }) => SpawnSpec;

export interface RemoteSpawnOptions {
  /** Link the requesting process and the child before the child runs. */
  link?: boolean;
  /** Monitor the child before it runs; the promise then gives `[pid, ref]`. */
  monitor?: boolean;
  /** ms to wait for the spawn reply (default 30 000). A child whose reply comes later is killed. */
  timeoutMs?: number;
}

export const DEFAULT_SPAWN_TIMEOUT = 30_000;

/** A remote spawn failed. `reason`: `noconnection`, `not_exposed`, `timeout`, `badarg` or `spawn_failed`. */
export class RemoteSpawnError extends TroupeError {
  constructor(
    code: string,
    message: string,
    readonly node: string,
    readonly behaviour: string,
    readonly reason: string,
  ) {
    super(code, message);
  }
}

/** The node is not connected, or went down before it replied. */
export class SpawnNodeDownError extends RemoteSpawnError {
  constructor(node: string, behaviour: string) {
    super('TROUPE_ERR_NODEDOWN', `cannot spawn '${behaviour}' on ${node}: node is not connected`, node, behaviour, 'noconnection');
  }
}

/** The node did not expose a behaviour under that name (remote spawn is allow-listed). */
export class NotExposedError extends RemoteSpawnError {
  constructor(node: string, behaviour: string) {
    super('TROUPE_ERR_NOT_EXPOSED', `node ${node} does not expose '${behaviour}' for remote spawn (see Distribution.expose)`, node, behaviour, 'not_exposed');
  }
}

export class SpawnTimeoutError extends RemoteSpawnError {
  constructor(node: string, behaviour: string, readonly timeoutMs: number) {
    super('TROUPE_ERR_SPAWN_TIMEOUT', `spawn of '${behaviour}' on ${node}: no reply within ${timeoutMs} ms`, node, behaviour, 'timeout');
  }
}

/** The remote factory threw, or returned something that cannot be spawned (`reason` `spawn_failed` / `badarg`). */
export class SpawnFailedError extends RemoteSpawnError {
  constructor(node: string, behaviour: string, reason: string, detail: string) {
    super('TROUPE_ERR_SPAWN_FAILED', `spawn of '${behaviour}' on ${node} failed: ${detail}`, node, behaviour, reason);
  }
}

interface PendingSpawn {
  readonly ref: Ref;
  readonly node: string;
  readonly name: string;
  readonly origin: Proc | null;
  readonly link: boolean;
  readonly monitor: boolean;
  readonly resolve: (v: Pid | [Pid, Ref]) => void;
  readonly reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout> | null;
}

/**
 * The node's side of distribution: remote bookkeeping (links, monitors,
 * pending calls and spawns that involve other nodes), `nodeup`/`nodedown`,
 * the remote-spawn allow-list, and the translation between local operations
 * and `Signal`s a `Transport` carries. A transport calls `nodeUp`, `handle`
 * and `nodeDown`; the node calls the rest.
 */
export class Distribution {
  private transport: Transport | null = null;
  /** Connected peers and their creation. */
  private readonly peers = new Map<string, number>();
  /** The transport's channel to each connected peer that has one (the send fast path). */
  private readonly channels = new Map<string, { readonly creation: number; readonly ch: PeerChannel }>();
  /** Connected peers that are hidden: not listed by `nodes()`, not reported to `monitorNodes` (OTP). */
  private readonly hiddenPeers = new Set<string>();
  /**
   * Local processes with a link or monitor involving each remote node (a
   * superset: entries are checked against the real tables at nodedown).
   */
  private readonly ties = new Map<string, Set<Proc>>();
  /** Monitors held by remote owners on local processes, by ref key: O(1) remote demonitor. */
  private readonly remoteMonitors = new Map<string, Proc>();
  /** `monitor_nodes` subscribers; each subscription gets its own message (OTP). */
  private readonly nodeWatchers = new Map<string, { pid: Pid; count: number }>();
  /** The remote-spawn allow-list. */
  private readonly exposedFactories = new Map<string, SpawnFactory>();
  private readonly spawns = new Map<string, PendingSpawn>();
  /**
   * Calls from each peer waiting on a local server, by call tag: the monitor
   * a `call` signal carries. Removed when this node sends the reply (or the
   * caller demonitors); a server's `remoteCallers` counts its entries.
   */
  private readonly callWatch = new Map<string, Map<number, Proc>>();

  /** Bumped whenever a peer goes up or down (`handleFrame` then re-checks its sender). */
  private epoch = 0;

  constructor(private readonly node: Node) {}

  /** Plugs a transport in. One per node. */
  attach(t: Transport): void {
    if (this.transport !== null && this.transport !== t) throw new Error(`node ${this.node.name} already has a transport`);
    this.transport = t;
  }

  /** @internal Called at node shutdown: the transport closes, every peer is down. */
  detach(): void {
    const t = this.transport;
    this.transport = null;
    if (t !== null) t.close?.();
    for (const name of [...this.peers.keys()]) this.nodeDown(name, 'shutdown');
  }

  isConnected(nodeName: string): boolean {
    return this.peers.has(nodeName);
  }

  /** Connected nodes: `visible` (default, Erlang's `nodes()`), `hidden`, or all `connected`. */
  nodes(kind: 'visible' | 'hidden' | 'connected' = 'visible'): string[] {
    if (kind === 'connected') return [...this.peers.keys()];
    const hidden = kind === 'hidden';
    return [...this.peers.keys()].filter((n) => this.hiddenPeers.has(n) === hidden);
  }

  creationOf(nodeName: string): number | undefined {
    return this.peers.get(nodeName);
  }

  // ---- node up / down ------------------------------------------------------

  /**
   * Subscribes local `pid` to `{ type: 'nodeup' }` / `{ type: 'nodedown', reason }`
   * messages (Erlang's `net_kernel:monitor_nodes`). Each `true` adds a
   * subscription (and a message per event); `false` removes all of them.
   * Subscriptions end when the subscriber dies.
   */
  monitorNodes(pid: Pid, on: boolean): void {
    if (!(pid instanceof Pid)) throw new BadArgError(`monitorNodes: not a pid: ${formatReason(pid)}`);
    if (pid.node !== this.node.name) throw new BadArgError(`monitorNodes: ${pid.toString()} is not a local process`);
    if (!on) {
      this.nodeWatchers.delete(pid.key);
      return;
    }
    if (!this.node.isAlive(pid)) return;
    const w = this.nodeWatchers.get(pid.key);
    if (w !== undefined) w.count++;
    else this.nodeWatchers.set(pid.key, { pid, count: 1 });
  }

  /**
   * The transport has an authenticated connection to `name` (incarnation
   * `creation`). A `hidden` peer is listed only by `nodes('hidden')`.
   */
  nodeUp(name: string, creation: number, opts: { hidden?: boolean; channel?: PeerChannel } = {}): void {
    const known = this.peers.get(name);
    // A new incarnation before the old connection was reported down: nodedown first (OTP #84).
    if (known !== undefined && known !== creation) this.nodeDown(name, 'connection_closed');
    if (opts.channel !== undefined) this.channels.set(name, { creation, ch: opts.channel });
    if (known === creation) return;
    this.epoch++;
    this.peers.set(name, creation);
    if (opts.hidden === true) {
      // Like `net_kernel:monitor_nodes(true)`: subscribers hear about visible nodes only.
      this.hiddenPeers.add(name);
      return;
    }
    const msg: NodeUpMessage = { type: 'nodeup', node: name };
    this.notifyWatchers(msg);
  }

  /**
   * The connection to `name` is gone: every link to its processes fires
   * `noconnection`, every monitor a DOWN with `noconnection`, every pending
   * call fails with a node-down error, every pending spawn on it too.
   * Called after the last signal from it.
   */
  nodeDown(name: string, reason: string): void {
    if (!this.peers.delete(name)) return;
    this.channels.delete(name);
    this.epoch++;
    const node = this.node;
    const procs = this.ties.get(name);
    this.ties.delete(name);
    if (procs !== undefined) {
      for (const p of procs) {
        if (p.status === Status.Dead) continue;
        if (p.monitoredBy !== null) {
          for (const [k, m] of p.monitoredBy) {
            if (m.owner.node === name) {
              p.monitoredBy.delete(k);
              this.remoteMonitors.delete(k);
            }
          }
        }
        // Links first: OTP delivers EXIT, then DOWN, then nodedown on a lost connection.
        if (p.links !== null) {
          for (const pid of [...p.links.values()]) {
            // Through the node's signal queue: a dying process's own links are handled in order.
            if (pid.node === name) node.exitSignal(pid, p.self, 'noconnection', true);
          }
        }
        if (p.monitors !== null) {
          for (const [k, m] of p.monitors) {
            if (m.target.node === name) {
              p.monitors.delete(k);
              p.deliver({ type: 'DOWN', ref: m.ref, object: m.object, reason: 'noconnection' } satisfies DownMessage);
            }
          }
        }
      }
    }
    const watched = this.callWatch.get(name);
    if (watched !== undefined) {
      this.callWatch.delete(name);
      for (const p of watched.values()) p.remoteCallers--;
    }
    node.calls.nodeDown(name);
    for (const ps of [...this.spawns.values()]) {
      if (ps.node === name) this.settleSpawn(ps, new SpawnNodeDownError(name, ps.name));
    }
    if (this.hiddenPeers.delete(name)) return;
    const msg: NodeDownMessage = { type: 'nodedown', node: name, reason };
    this.notifyWatchers(msg);
  }

  private notifyWatchers(msg: NodeUpMessage | NodeDownMessage): void {
    for (const [k, w] of this.nodeWatchers) {
      if (!this.node.isAlive(w.pid)) {
        this.nodeWatchers.delete(k);
        continue;
      }
      for (let i = 0; i < w.count; i++) this.node.send(w.pid, i === 0 ? msg : { ...msg });
    }
  }

  private tie(nodeName: string, p: Proc): void {
    let s = this.ties.get(nodeName);
    if (s === undefined) this.ties.set(nodeName, (s = new Set()));
    s.add(p);
  }

  /** @internal A process exited: drop it from the remote indexes (O(nodes)). */
  forget(p: Proc): void {
    if (this.nodeWatchers.size > 0) this.nodeWatchers.delete(p.self.key);
    if (this.ties.size === 0) return;
    for (const s of this.ties.values()) s.delete(p);
  }

  private out(nodeName: string, s: Signal): boolean {
    const c = this.channels.get(nodeName);
    if (c !== undefined) return c.ch.signal(s);
    if (this.transport === null || !this.peers.has(nodeName)) return false;
    return this.transport.sendSignal(nodeName, s);
  }

  /** A pid of the connected incarnation of its node? (Old incarnations are dead.) */
  private current(pid: Pid): boolean {
    return this.peers.get(pid.node) === pid.creation;
  }

  // ---- outgoing --------------------------------------------------------------

  /** @internal */
  send(to: Pid, msg: unknown): void {
    const c = this.channels.get(to.node);
    // A pid of another incarnation of a connected node is dead: dropped, as below.
    if (c !== undefined) {
      if (c.creation === to.creation) c.ch.send(to.id, to.creation, msg);
    } else if (this.current(to)) this.out(to.node, { k: 'send', to, msg });
  }

  /** @internal */
  sendName(to: RemoteName, msg: unknown): void {
    this.out(to.node, { k: 'send_name', name: to.name, msg });
  }

  /** @internal Remote names are not resolved locally (no round trip): undefined. */
  whereisRemote(_rn: RemoteName): Pid | undefined {
    return undefined;
  }

  /** @internal */
  exit(from: Pid, to: Pid, reason: ExitReason, link: boolean): void {
    if (this.current(to)) this.out(to.node, { k: 'exit', from, to, reason, link });
  }

  /** @internal `p` already recorded the link; an unreachable node answers `noconnection` at once. */
  link(p: Proc, to: Pid): void {
    if (!this.current(to)) {
      p.links?.delete(to.key);
      const reason = this.peers.has(to.node) ? 'noproc' : 'noconnection';
      this.node.receiveExit(to, p, reason, false);
      return;
    }
    this.tie(to.node, p);
    this.out(to.node, { k: 'link', from: p.self, to });
  }

  /** @internal */
  unlink(from: Pid, to: Pid): void {
    if (this.current(to)) this.out(to.node, { k: 'unlink', from, to });
  }

  /** @internal */
  monitor(p: Proc, to: Pid, ref: Ref): void {
    if (!this.current(to)) {
      const reason = this.peers.has(to.node) ? 'noproc' : 'noconnection';
      p.deliver({ type: 'DOWN', ref, object: to, reason } satisfies DownMessage);
      return;
    }
    const m: Monitor = { ref, owner: p.self, target: to, object: to };
    (p.monitors ??= new Map()).set(ref.key, m);
    this.tie(to.node, p);
    this.out(to.node, { k: 'monitor', from: p.self, to, ref });
  }

  /** @internal */
  monitorName(p: Proc, object: RemoteName, ref: Ref): void {
    if (!this.peers.has(object.node)) {
      p.deliver({ type: 'DOWN', ref, object, reason: 'noconnection' } satisfies DownMessage);
      return;
    }
    // The target pid is unknown until the remote node resolves the name; keyed by node.
    const m: Monitor = { ref, owner: p.self, target: new Pid(object.node, 0, 0), object };
    (p.monitors ??= new Map()).set(ref.key, m);
    this.tie(object.node, p);
    this.out(object.node, { k: 'monitor', from: p.self, to: object.name, ref });
  }

  /** @internal */
  demonitor(from: Pid, target: Pid, ref: Ref): void {
    this.out(target.node, { k: 'demonitor', from, ref });
  }

  /** @internal A local process with a remote monitor owner ended. */
  down(owner: Pid, d: DownMessage): void {
    this.remoteMonitors.delete(d.ref.key);
    this.out(owner.node, { k: 'down', to: owner, ref: d.ref, object: d.object, reason: d.reason });
  }

  /**
   * @internal A call to a remote server: one `call` signal, which also
   * monitors the server for the call. A pid of a node that is not connected
   * (or of an old incarnation) fails the call on the next microtask.
   */
  call(server: Pid | RemoteName, tag: number, caller: Pid | null, req: unknown): void {
    if (!(server instanceof Pid)) {
      this.out(server.node, { k: 'call', to: server.name, tag, from: caller, req });
      return;
    }
    if (!this.current(server)) {
      const pc = this.node.calls.pending.get(tag);
      if (pc !== undefined) queueMicrotask(() => this.node.calls.fail(pc, this.peers.has(server.node) ? 'noproc' : 'noconnection'));
      return;
    }
    this.out(server.node, { k: 'call', to: server, tag, from: caller, req });
  }

  /** @internal A remote call ended without a reply from its server's node: end its monitor there. */
  demonitorForCall(serverNode: string, tag: number): void {
    this.out(serverNode, { k: 'demonitor', from: null, ref: new Ref(this.node.name, tag, this.node.creation) });
  }

  /** @internal A reply to a caller on another node; it also ends the call's monitor here, if any. */
  reply(from: From, value: unknown): void {
    const watched = this.callWatch.get(from.node);
    if (watched !== undefined) {
      const p = watched.get(from.tag);
      if (p !== undefined) {
        watched.delete(from.tag);
        p.remoteCallers--;
      }
    }
    this.out(from.node, { k: 'reply', tag: from.tag, value });
  }

  /** @internal A local server with calls from other nodes pending ended: each caller gets a DOWN for its call. */
  callServerExited(p: Proc, reason: ExitReason): void {
    p.remoteCallers = 0;
    for (const [peer, watched] of this.callWatch) {
      const creation = this.peers.get(peer);
      for (const [tag, q] of watched) {
        if (q !== p) continue;
        watched.delete(tag);
        if (creation !== undefined) this.out(peer, { k: 'down', to: null, ref: new Ref(peer, tag, creation), object: p.self, reason });
      }
    }
  }

  // ---- remote spawn ------------------------------------------------------------

  /**
   * Allows peers to spawn `factory(args)` on this node under `name` (the
   * allow-list: a connected peer can message you, not run arbitrary code).
   * Re-exposing a name replaces its factory.
   */
  expose(name: string, factory: SpawnFactory): void {
    if (typeof name !== 'string' || name.length === 0) throw new BadArgError(`expose: a name must be a non-empty string, got ${formatReason(name)}`);
    if (typeof factory !== 'function') throw new BadArgError(`expose: '${name}' needs a factory function`);
    this.exposedFactories.set(name, factory);
  }

  /** Removes `name` from the allow-list; running children are unaffected. */
  unexpose(name: string): boolean {
    return this.exposedFactories.delete(name);
  }

  /** The names peers may spawn. */
  exposed(): string[] {
    return [...this.exposedFactories.keys()];
  }

  /**
   * Spawns the behaviour `nodeName` exposed as `name` (Erlang's
   * `spawn_request`). `origin` is the requesting process (needed for `link`
   * and `monitor`), or null from outside any process. With `link`, the child
   * is linked before it runs, so an instant crash still reaches the origin
   * with its real reason. Rejects with `SpawnNodeDownError`,
   * `NotExposedError`, `SpawnTimeoutError` or `SpawnFailedError`.
   */
  spawnRemote(origin: ProcessContext | null, nodeName: string, name: string, args: readonly unknown[], opts: RemoteSpawnOptions & { monitor: true }): Promise<[Pid, Ref]>;
  spawnRemote(origin: ProcessContext | null, nodeName: string, name: string, args?: readonly unknown[], opts?: RemoteSpawnOptions): Promise<Pid>;
  spawnRemote(origin: ProcessContext | null, nodeName: string, name: string, args: readonly unknown[] = [], opts: RemoteSpawnOptions = {}): Promise<Pid | [Pid, Ref]> {
    const node = this.node;
    const link = opts.link === true;
    const monitor = opts.monitor === true;
    const o = origin === null ? null : node.lookup(origin.self);
    if (origin !== null && o === null) return Promise.reject(new BadArgError(`spawnRemote: origin ${origin.self.toString()} is not a live process of ${node.name}`));
    if ((link || monitor) && o === null) return Promise.reject(new BadArgError('spawnRemote: link and monitor need an origin process'));
    if (typeof name !== 'string' || !Array.isArray(args)) return Promise.reject(new BadArgError('spawnRemote: name must be a string and args an array'));
    if (nodeName === node.name) return this.spawnHere(o, name, args, link, monitor);
    if (!this.peers.has(nodeName)) return Promise.reject(new SpawnNodeDownError(nodeName, name));
    const timeoutMs = opts.timeoutMs ?? DEFAULT_SPAWN_TIMEOUT;
    const ref = node.makeRef();
    return new Promise<Pid | [Pid, Ref]>((resolve, reject) => {
      const ps: PendingSpawn = { ref, node: nodeName, name, origin: o, link, monitor, resolve, reject, timer: null };
      this.spawns.set(ref.key, ps);
      if (Number.isFinite(timeoutMs)) {
        ps.timer = setTimeout(() => this.settleSpawn(ps, new SpawnTimeoutError(nodeName, name, timeoutMs)), Math.max(0, Math.min(timeoutMs, 2 ** 31 - 1)));
      }
      try {
        this.out(nodeName, { k: 'spawn_request', ref, from: o?.self ?? null, name, args: [...args], link, monitor });
      } catch (e) {
        // Unencodable args: the caller's error.
        this.spawns.delete(ref.key);
        if (ps.timer !== null) clearTimeout(ps.timer);
        reject(e);
      }
    });
  }

  /** A spawn "on" this node goes through the same allow-list, without a round trip. */
  private spawnHere(o: Proc | null, name: string, args: readonly unknown[], link: boolean, monitor: boolean): Promise<Pid | [Pid, Ref]> {
    const node = this.node;
    const made = this.build(name, args, o?.self ?? null, node.name);
    if (!Array.isArray(made)) {
      const [code, detail] = [made.error, made.message];
      return Promise.reject(code === 'not_exposed' ? new NotExposedError(node.name, name) : new SpawnFailedError(node.name, name, code, detail));
    }
    let pid: Pid;
    try {
      pid = node.spawnFrom(o, made[0], made[1], link);
    } catch (e) {
      return Promise.reject(new SpawnFailedError(node.name, name, 'badarg', errText(e)));
    }
    return Promise.resolve(monitor ? [pid, node.monitor(o!, pid)] : pid);
  }

  private build(
    name: string,
    args: readonly unknown[],
    from: Pid | null,
    fromNode: string,
  ): [ProcessBody<unknown> | Behaviour<unknown, unknown>, SpawnOptions] | { error: string; message: string } {
    const factory = this.exposedFactories.get(name);
    if (factory === undefined) return { error: 'not_exposed', message: `'${name}' is not exposed` };
    let spec: SpawnSpec;
    try {
      spec = factory(args, { from, node: fromNode });
    } catch (e) {
      return { error: 'spawn_failed', message: errText(e) };
    }
    let body: unknown = spec;
    let opts: SpawnOptions = {};
    if (typeof spec === 'object' && spec !== null && 'body' in spec) {
      body = spec.body;
      opts = { ...spec.opts };
    }
    const ok = typeof body === 'function' || (typeof body === 'object' && body !== null && typeof (body as Behaviour<unknown, unknown>).handle === 'function');
    if (!ok) return { error: 'badarg', message: `factory of '${name}' returned neither a process body nor a behaviour` };
    opts.label ??= name;
    return [body as ProcessBody<unknown> | Behaviour<unknown, unknown>, opts];
  }

  private settleSpawn(ps: PendingSpawn, result: Error | Pid): void {
    if (!this.spawns.delete(ps.ref.key)) return;
    if (ps.timer !== null) clearTimeout(ps.timer);
    if (result instanceof Error) {
      ps.reject(result);
      return;
    }
    const child = result;
    const o = ps.origin;
    const alive = o !== null && o.status !== Status.Dead;
    if (ps.link) {
      if (alive) {
        (o.links ??= new Map()).set(child.key, child);
        this.tie(ps.node, o);
      } else {
        // The child holds a link to an origin that died before the reply: give it the origin's reason.
        this.out(ps.node, { k: 'exit', from: o!.self, to: child, reason: o!.exitReason, link: true });
      }
    }
    if (ps.monitor) {
      if (alive) {
        (o.monitors ??= new Map()).set(ps.ref.key, { ref: ps.ref, owner: o.self, target: child, object: child });
        this.tie(ps.node, o);
      } else {
        this.out(ps.node, { k: 'demonitor', from: o!.self, ref: ps.ref });
      }
    }
    ps.resolve(ps.monitor ? [child, ps.ref] : child);
  }

  private handleSpawnRequest(fromNode: string, s: Extract<Signal, { k: 'spawn_request' }>): void {
    const node = this.node;
    const reply = (pid: Pid | null, error: string | null, message: string | null): void => {
      this.out(fromNode, { k: 'spawn_reply', ref: s.ref, pid, error, message });
    };
    if ((s.link || s.monitor) && s.from === null) return reply(null, 'badarg', 'link and monitor need a requesting process');
    const made = this.build(s.name, s.args, s.from, fromNode);
    if (!Array.isArray(made)) return reply(null, made.error, made.message);
    let pid: Pid;
    try {
      pid = node.spawn(made[0], made[1]);
    } catch (e) {
      return reply(null, 'badarg', errText(e));
    }
    // The child is queued, not run: link and monitor exist before its first instruction.
    const p = node.lookup(pid)!;
    if (s.link) {
      (p.links ??= new Map()).set(s.from!.key, s.from!);
      this.tie(fromNode, p);
    }
    if (s.monitor) {
      (p.monitoredBy ??= new Map()).set(s.ref.key, { ref: s.ref, owner: s.from!, target: pid, object: pid });
      this.remoteMonitors.set(s.ref.key, p);
      this.tie(fromNode, p);
    }
    reply(pid, null, null);
  }

  private handleSpawnReply(fromNode: string, s: Extract<Signal, { k: 'spawn_reply' }>): void {
    const ps = this.spawns.get(s.ref.key);
    if (ps === undefined || ps.node !== fromNode) {
      // Abandoned (timed out): nobody holds the child's pid, so it must not linger.
      if (s.pid !== null && s.pid.node === fromNode) this.out(fromNode, { k: 'exit', from: this.node.external, to: s.pid, reason: 'kill', link: false });
      return;
    }
    if (s.pid !== null && s.pid.node === fromNode) return this.settleSpawn(ps, s.pid);
    const err = s.error ?? 'spawn_failed';
    this.settleSpawn(ps, err === 'not_exposed' ? new NotExposedError(fromNode, ps.name) : new SpawnFailedError(fromNode, ps.name, err, s.message ?? err));
  }

  // ---- incoming ------------------------------------------------------------------

  /**
   * A signal from `fromNode`, in the order it was sent. Signals from a node
   * that is not connected are dropped (fail closed); a signal claiming a
   * sender of another node is dropped; signals naming pids of another
   * incarnation, or not of this node, are ignored (or answered with
   * `noproc`). Nothing in a signal can throw out of here.
   */
  handle(fromNode: string, s: Signal): void {
    if (!this.peers.has(fromNode)) return;
    try {
      this.dispatch(fromNode, s);
    } catch (e) {
      this.node.logger.warn('distribution: signal failed', { from: fromNode, kind: String((s as { k?: unknown }).k), error: formatReason(reasonFromThrown(e)) });
    }
  }

  /**
   * A decoded frame from `fromNode`: as `handle` for each of its signals in
   * order, but a `send` goes straight to its process, a `reply` to its call
   * and a `call` to its server (no Signal object).
   * Stops when `conn.closed` becomes true or `fromNode` is no longer
   * connected. Nothing in the frame can throw out of here.
   */
  handleFrame(fromNode: string, frame: DecodedFrame, conn: { readonly closed: boolean } | null = null): void {
    if (!this.peers.has(fromNode)) return;
    const node = this.node;
    const epoch = this.epoch;
    let lastId = -1;
    let lastCr = -1;
    let last: Proc | null = null;
    // Peers change rarely: look the sender up again only once some node went up or down.
    const open = (): boolean => (conn === null || !conn.closed) && (this.epoch === epoch || this.peers.has(fromNode));
    frame.forEach({
      send: (id, creation, msg) => {
        if (!open()) return false;
        if (id !== lastId || creation !== lastCr) {
          lastId = id;
          lastCr = creation;
          last = node.lookupLocal(id, creation);
        }
        if (last !== null) {
          try {
            last.deliver(msg);
          } catch (e) {
            // A selective receive's match function threw.
            this.node.logger.warn('distribution: signal failed', { from: fromNode, kind: 'send', error: formatReason(reasonFromThrown(e)) });
          }
        }
        return true;
      },
      reply: (tag, value) => {
        if (!open()) return false;
        // As `dispatch` of a reply: any node may answer.
        try {
          node.calls.settle(tag, value, fromNode);
        } catch (e) {
          this.node.logger.warn('distribution: signal failed', { from: fromNode, kind: 'reply', error: formatReason(reasonFromThrown(e)) });
        }
        return true;
      },
      call: (id, creation, tag, from, req) => {
        if (!open()) return false;
        // As `dispatch` of a call; the caller is a process of the sender (its current incarnation).
        try {
          const caller = from === null ? null : new Pid(fromNode, from, this.peers.get(fromNode)!);
          const p = node.lookupLocal(id, creation);
          this.callIn(fromNode, p, p === null ? new Pid(node.name, id, creation) : null, tag, caller, req);
        } catch (e) {
          this.node.logger.warn('distribution: signal failed', { from: fromNode, kind: 'call', error: formatReason(reasonFromThrown(e)) });
        }
        return true;
      },
      signal: (s) => {
        if (!open()) return false;
        this.handle(fromNode, s);
        return true;
      },
    });
  }

  /**
   * A call from `fromNode` to local `p`; the server's node monitors `p` for
   * the call until it replies. With `p` null (no such process) the caller's
   * monitor fires `noproc` at once, naming `object` (given only then).
   */
  private callIn(fromNode: string, p: Proc | null, object: Pid | RemoteName | null, tag: number, from: Pid | null, req: unknown): void {
    if (p === null) {
      this.out(fromNode, { k: 'down', to: null, ref: new Ref(fromNode, tag, this.peers.get(fromNode)!), object: object!, reason: 'noproc' });
      return;
    }
    let watched = this.callWatch.get(fromNode);
    if (watched === undefined) this.callWatch.set(fromNode, (watched = new Map()));
    if (!watched.has(tag)) p.remoteCallers++;
    watched.set(tag, p);
    p.deliver(new CallEnvelope({ node: fromNode, tag, pid: from }, req));
  }

  /** A pid that can be the sender of a signal from `fromNode` (its current incarnation). */
  private ofPeer(pid: Pid, fromNode: string): boolean {
    return pid instanceof Pid && pid.node === fromNode && this.peers.get(fromNode) === pid.creation;
  }

  private dispatch(fromNode: string, s: Signal): void {
    const node = this.node;
    switch (s.k) {
      case 'send': {
        const p = this.local(s.to);
        if (p !== null) p.deliver(s.msg);
        return;
      }
      case 'send_name': {
        const pid = node.whereis(s.name);
        if (pid !== undefined) node.send(pid, s.msg);
        return;
      }
      case 'exit': {
        if (!this.ofPeer(s.from, fromNode)) return;
        const p = this.local(s.to);
        if (p !== null) node.receiveExit(s.from, p, s.reason, s.link);
        return;
      }
      case 'link': {
        if (!this.ofPeer(s.from, fromNode)) return;
        const p = this.local(s.to);
        if (p === null) {
          // As a link signal: it also removes the requester's half of the link.
          this.out(fromNode, { k: 'exit', from: s.to, to: s.from, reason: 'noproc', link: true });
          return;
        }
        (p.links ??= new Map()).set(s.from.key, s.from);
        this.tie(fromNode, p);
        return;
      }
      case 'unlink': {
        if (!this.ofPeer(s.from, fromNode)) return;
        this.local(s.to)?.links?.delete(s.from.key);
        return;
      }
      case 'monitor': {
        if (s.from !== null && !this.ofPeer(s.from, fromNode)) return;
        if (s.ref.node !== fromNode) return;
        let object: Pid | RemoteName;
        let p: Proc | null;
        if (typeof s.to === 'string') {
          object = { name: s.to, node: node.name };
          const pid = node.whereis(s.to);
          p = pid === undefined ? null : node.lookup(pid);
        } else {
          object = s.to;
          p = this.local(s.to);
        }
        if (p === null) {
          this.out(fromNode, { k: 'down', to: s.from, ref: s.ref, object, reason: 'noproc' });
          return;
        }
        const owner = s.from ?? new Pid(fromNode, 0, this.peers.get(fromNode)!);
        (p.monitoredBy ??= new Map()).set(s.ref.key, { ref: s.ref, owner, target: p.self, object });
        this.remoteMonitors.set(s.ref.key, p);
        this.tie(fromNode, p);
        return;
      }
      case 'call': {
        if (s.from !== null && !this.ofPeer(s.from, fromNode)) return;
        const to = s.to;
        if (typeof to === 'string') {
          const pid = node.whereis(to);
          this.callIn(fromNode, pid === undefined ? null : node.lookup(pid), { name: to, node: node.name }, s.tag, s.from, s.req);
        } else {
          this.callIn(fromNode, this.local(to), to, s.tag, s.from, s.req);
        }
        return;
      }
      case 'demonitor': {
        if (s.from === null && s.ref.node === fromNode) {
          // A call's monitor (ref id = call tag).
          const watched = this.callWatch.get(fromNode);
          const p = watched?.get(s.ref.id);
          if (p !== undefined) {
            watched!.delete(s.ref.id);
            p.remoteCallers--;
            return;
          }
        }
        const p = this.remoteMonitors.get(s.ref.key);
        if (p === undefined) return;
        const m = p.monitoredBy?.get(s.ref.key);
        if (m === undefined || m.owner.node !== fromNode) return;
        p.monitoredBy!.delete(s.ref.key);
        this.remoteMonitors.delete(s.ref.key);
        return;
      }
      case 'down': {
        if (s.to === null || s.to.id === 0) {
          // A call's monitor (ref id = call tag): only the server's node may end it.
          const pc = node.calls.pending.get(s.ref.id);
          if (pc !== undefined && pc.serverNode === fromNode && s.ref.node === node.name) node.calls.fail(pc, s.reason);
          return;
        }
        const p = this.local(s.to);
        if (p === null || p.monitors === null) return;
        const m = p.monitors.get(s.ref.key);
        if (m === undefined || m.target.node !== fromNode) return;
        p.monitors.delete(s.ref.key);
        p.deliver({ type: 'DOWN', ref: m.ref, object: m.object, reason: s.reason } satisfies DownMessage);
        return;
      }
      case 'reply': {
        // Any node may answer: a server can hand `from` to a process elsewhere (OTP).
        node.calls.settle(s.tag, s.value, fromNode);
        return;
      }
      case 'spawn_request':
        if (s.from !== null && !this.ofPeer(s.from, fromNode)) return;
        this.handleSpawnRequest(fromNode, s);
        return;
      case 'spawn_reply':
        this.handleSpawnReply(fromNode, s);
        return;
      default:
        node.logger.warn('distribution: unknown signal ignored', { from: fromNode, kind: String((s as { k?: unknown }).k) });
    }
  }

  private local(pid: Pid): Proc | null {
    if (!(pid instanceof Pid) || pid.node !== this.node.name) return null;
    return this.node.lookup(pid);
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : formatReason(e);
}
