import { Pid, type Ref } from '../pid.js';
import { formatReason } from '../exit-reason.js';
import { BadArgError, WaitTimeoutError } from '../errors.js';
import type { DownMessage, NodeDownMessage, NodeUpMessage, ProcessContext } from '../types.js';
import type { Node } from '../node.js';
import { Status } from '../internal/process.js';
import type { PeerChannel, Transport, TransportPort } from './signals.js';
import { PeerTable } from './peer-table.js';
import { Outgoing } from './outgoing.js';
import { Incoming } from './incoming.js';
import { RemoteSpawn, type RemoteSpawnOptions, type SpawnFactory } from './remote-spawn.js';

/**
 * `node.dist`: what a user asks of distribution — the connected nodes,
 * `nodeup`/`nodedown` subscriptions, and remote spawn with its allow-list.
 * A transport plugs in with `attach` and gets its own port.
 */
export class Distribution {
  private readonly table: PeerTable;
  private readonly spawns: RemoteSpawn;
  private readonly incoming: Incoming;
  private port: TransportPort | null = null;
  /** `whenConnected` callers, by the node they wait for. */
  private readonly upWaiters = new Map<string, Set<() => void>>();
  /** @internal The node's operations on remote processes. */
  readonly outgoing: Outgoing;

  constructor(node: Node) {
    this.table = new PeerTable(node);
    this.outgoing = new Outgoing(this.table);
    this.spawns = new RemoteSpawn(this.table);
    this.incoming = new Incoming(this.table, this.spawns);
  }

  /**
   * Plugs a transport in (one per node; attaching it again is a no-op). The
   * port returned is how it reports peers and hands in what they sent.
   */
  attach(t: Transport): TransportPort {
    const table = this.table;
    if (table.transport !== null && table.transport !== t) throw new Error(`node ${table.node.name} already has a transport`);
    table.transport = t;
    return (this.port ??= {
      nodeUp: (name, creation, opts) => this.nodeUp(name, creation, opts),
      nodeDown: (name, reason) => this.nodeDown(name, reason),
      handle: (fromNode, s) => this.incoming.handle(fromNode, s),
      handleFrame: (fromNode, frame, conn) => this.incoming.handleFrame(fromNode, frame, conn),
      detach: () => this.detach(),
    });
  }

  /** @internal Called at node shutdown: the transport closes, every peer is down. */
  detach(): void {
    const table = this.table;
    const t = table.transport;
    table.transport = null;
    if (t !== null) t.close?.();
    for (const name of [...table.peers.keys()]) this.nodeDown(name, 'shutdown');
  }

  isConnected(nodeName: string): boolean {
    return this.table.peers.has(nodeName);
  }

  /** Connected nodes: `visible` (default, Erlang's `nodes()`), `hidden`, or all `connected`. */
  nodes(kind: 'visible' | 'hidden' | 'connected' = 'visible'): string[] {
    const { peers, hiddenPeers } = this.table;
    if (kind === 'connected') return [...peers.keys()];
    const hidden = kind === 'hidden';
    return [...peers.keys()].filter((n) => hiddenPeers.has(n) === hidden);
  }

  /**
   * Resolves once `nodeName` is connected (at once if it is): the awaitable
   * form of polling `isConnected`. Rejects with `WaitTimeoutError` after
   * `timeoutMs` (default 5000; Infinity waits for ever). It does not dial:
   * connect through the transport or let discovery do it.
   */
  whenConnected(nodeName: string, opts: { timeoutMs?: number } = {}): Promise<void> {
    if (typeof nodeName !== 'string') return Promise.reject(new BadArgError(`whenConnected: node must be a string, got ${formatReason(nodeName)}`));
    if (this.table.peers.has(nodeName)) return Promise.resolve();
    const timeoutMs = opts.timeoutMs ?? 5000;
    return new Promise<void>((resolve, reject) => {
      let set = this.upWaiters.get(nodeName);
      if (set === undefined) this.upWaiters.set(nodeName, (set = new Set()));
      const leave = (): void => {
        set.delete(up);
        if (set.size === 0 && this.upWaiters.get(nodeName) === set) this.upWaiters.delete(nodeName);
      };
      const timer = Number.isFinite(timeoutMs)
        ? setTimeout(() => {
            leave();
            reject(new WaitTimeoutError(`node ${nodeName} to connect to ${this.table.node.name}`, timeoutMs));
          }, timeoutMs)
        : null;
      const up = (): void => {
        if (timer !== null) clearTimeout(timer);
        leave();
        resolve();
      };
      set.add(up);
    });
  }

  creationOf(nodeName: string): number | undefined {
    return this.table.peers.get(nodeName);
  }

  /**
   * Subscribes local `pid` to `{ type: 'nodeup' }` / `{ type: 'nodedown', reason }`
   * messages (Erlang's `net_kernel:monitor_nodes`). Each `true` adds a
   * subscription (and a message per event); `false` removes all of them.
   * Subscriptions end when the subscriber dies.
   */
  monitorNodes(pid: Pid, on: boolean): void {
    const node = this.table.node;
    const watchers = this.table.nodeWatchers;
    if (!(pid instanceof Pid)) throw new BadArgError(`monitorNodes: not a pid: ${formatReason(pid)}`);
    if (pid.node !== node.name) throw new BadArgError(`monitorNodes: ${pid.toString()} is not a local process`);
    if (!on) {
      watchers.delete(pid.key);
      return;
    }
    if (!node.isAlive(pid)) return;
    const w = watchers.get(pid.key);
    if (w !== undefined) w.count++;
    else watchers.set(pid.key, { pid, count: 1 });
  }

  /**
   * Allows peers to spawn `factory(args)` on this node under `name` (the
   * allow-list: a connected peer can message you, not run arbitrary code).
   * Re-exposing a name replaces its factory.
   */
  expose(name: string, factory: SpawnFactory): void {
    this.spawns.expose(name, factory);
  }

  /** Removes `name` from the allow-list; running children are unaffected. */
  unexpose(name: string): boolean {
    return this.spawns.unexpose(name);
  }

  /** The names peers may spawn. */
  exposed(): string[] {
    return this.spawns.exposed();
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
    return this.spawns.spawn(origin, nodeName, name, args, opts);
  }

  private nodeUp(name: string, creation: number, opts: { hidden?: boolean; channel?: PeerChannel } = {}): void {
    const table = this.table;
    const known = table.peers.get(name);
    // A new incarnation before the old connection was reported down: nodedown first, as OTP does.
    if (known !== undefined && known !== creation) this.nodeDown(name, 'connection_closed');
    if (opts.channel !== undefined) table.channels.set(name, { creation, ch: opts.channel });
    if (known === creation) return;
    table.epoch++;
    table.peers.set(name, creation);
    const waiting = this.upWaiters.get(name);
    if (waiting !== undefined) for (const up of [...waiting]) up();
    if (opts.hidden === true) {
      // Like `net_kernel:monitor_nodes(true)`: subscribers hear about visible nodes only.
      table.hiddenPeers.add(name);
      return;
    }
    this.notifyWatchers({ type: 'nodeup', node: name });
  }

  private nodeDown(name: string, reason: string): void {
    const table = this.table;
    if (!table.peers.delete(name)) return;
    table.channels.delete(name);
    table.epoch++;
    const node = table.node;
    const procs = table.ties.get(name);
    table.ties.delete(name);
    if (procs !== undefined) {
      for (const p of procs) {
        if (p.status === Status.Dead) continue;
        if (p.monitoredBy !== null) {
          for (const [k, m] of p.monitoredBy) {
            if (m.owner.node === name) {
              p.monitoredBy.delete(k);
              table.remoteMonitors.delete(k);
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
    const watched = table.callWatch.get(name);
    if (watched !== undefined) {
      table.callWatch.delete(name);
      for (const p of watched.values()) p.remoteCallers--;
    }
    node.calls.nodeDown(name);
    this.spawns.nodeDown(name);
    if (table.hiddenPeers.delete(name)) return;
    this.notifyWatchers({ type: 'nodedown', node: name, reason });
  }

  private notifyWatchers(msg: NodeUpMessage | NodeDownMessage): void {
    const node = this.table.node;
    for (const [k, w] of this.table.nodeWatchers) {
      if (!node.isAlive(w.pid)) {
        this.table.nodeWatchers.delete(k);
        continue;
      }
      for (let i = 0; i < w.count; i++) node.send(w.pid, i === 0 ? msg : { ...msg });
    }
  }
}
