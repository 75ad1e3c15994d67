import { Pid } from '../pid.js';
import type { Node } from '../node.js';
import type { Proc } from '../internal/process.js';
import type { PeerChannel, Signal, Transport } from './signals.js';

/**
 * The state distribution shares between its parts: the connected peers (and
 * their creation), the transport and its per-peer channels, and the indexes
 * of local processes that something on a peer depends on (links, monitors,
 * calls), so a nodedown finds them without a scan of every process.
 */
export class PeerTable {
  transport: Transport | null = null;
  /** Connected peers and their creation. */
  readonly peers = new Map<string, number>();
  /** The transport's channel to each connected peer that has one (the send fast path). */
  readonly channels = new Map<string, { readonly creation: number; readonly ch: PeerChannel }>();
  /** Connected peers that are hidden: not listed by `nodes()`, not reported to `monitorNodes` (OTP). */
  readonly hiddenPeers = new Set<string>();
  /**
   * Local processes with a link or monitor involving each remote node (a
   * superset: entries are checked against the real tables at nodedown).
   */
  readonly ties = new Map<string, Set<Proc>>();
  /** Monitors held by remote owners on local processes, by ref key: O(1) remote demonitor. */
  readonly remoteMonitors = new Map<string, Proc>();
  /**
   * Calls from each peer waiting on a local server, by call tag: the monitor
   * a `call` signal carries. Removed when this node sends the reply (or the
   * caller demonitors); a server's `remoteCallers` counts its entries.
   */
  readonly callWatch = new Map<string, Map<number, Proc>>();
  /** `monitor_nodes` subscribers; each subscription gets its own message (OTP). */
  readonly nodeWatchers = new Map<string, { pid: Pid; count: number }>();
  /** Bumped whenever a peer goes up or down (`handleFrame` then re-checks its sender). */
  epoch = 0;

  constructor(readonly node: Node) {}

  /** Queues `s` for `nodeName`; false if it is not connected. */
  out(nodeName: string, s: Signal): boolean {
    const c = this.channels.get(nodeName);
    if (c !== undefined) return c.ch.signal(s);
    if (this.transport === null || !this.peers.has(nodeName)) return false;
    return this.transport.sendSignal(nodeName, s);
  }

  /** A pid of the connected incarnation of its node? (Old incarnations are dead.) */
  current(pid: Pid): boolean {
    return this.peers.get(pid.node) === pid.creation;
  }

  /** Records that local `p` has a link or monitor involving `nodeName`. */
  tie(nodeName: string, p: Proc): void {
    let s = this.ties.get(nodeName);
    if (s === undefined) this.ties.set(nodeName, (s = new Set()));
    s.add(p);
  }

  /** The end of a call's monitor on this node (reply sent, or the caller demonitored). */
  unwatchCall(peer: string, tag: number): boolean {
    const watched = this.callWatch.get(peer);
    const p = watched?.get(tag);
    if (p === undefined) return false;
    watched!.delete(tag);
    p.remoteCallers--;
    return true;
  }

  /** The live local process `pid` names, or null (a pid of another node or incarnation included). */
  local(pid: Pid): Proc | null {
    if (!(pid instanceof Pid) || pid.node !== this.node.name) return null;
    return this.node.lookup(pid);
  }
}
