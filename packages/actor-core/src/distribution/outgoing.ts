import { Pid, Ref } from '../pid.js';
import type { ExitReason } from '../exit-reason.js';
import type { DownMessage, RemoteName } from '../types.js';
import type { Monitor, Proc } from '../internal/process.js';
import type { From } from '../internal/calls.js';
import type { PeerTable } from './peer-table.js';

/**
 * The node's operations on remote processes, as signals to their nodes: the
 * node calls these where a local operation names a pid or name elsewhere.
 * A pid of a node that is not connected (or of an old incarnation) is dead:
 * sends to it are dropped, links and monitors to it fire at once.
 */
export class Outgoing {
  constructor(private readonly t: PeerTable) {}

  send(to: Pid, msg: unknown): void {
    const c = this.t.channels.get(to.node);
    // A pid of another incarnation of a connected node is dead: dropped, as below.
    if (c !== undefined) {
      if (c.creation === to.creation) c.ch.send(to.id, to.creation, msg);
    } else if (this.t.current(to)) this.t.out(to.node, { k: 'send', to, msg });
  }

  sendName(to: RemoteName, msg: unknown): void {
    this.t.out(to.node, { k: 'send_name', name: to.name, msg });
  }

  /** Remote names are not resolved locally (no round trip): undefined. */
  whereisRemote(_rn: RemoteName): Pid | undefined {
    return undefined;
  }

  exit(from: Pid, to: Pid, reason: ExitReason, link: boolean): void {
    if (this.t.current(to)) this.t.out(to.node, { k: 'exit', from, to, reason, link });
  }

  /** `p` already recorded the link; an unreachable node answers `noconnection` at once. */
  link(p: Proc, to: Pid): void {
    const t = this.t;
    if (!t.current(to)) {
      p.links?.delete(to.key);
      const reason = t.peers.has(to.node) ? 'noproc' : 'noconnection';
      t.node.receiveExit(to, p, reason, false);
      return;
    }
    t.tie(to.node, p);
    t.out(to.node, { k: 'link', from: p.self, to });
  }

  unlink(from: Pid, to: Pid): void {
    if (this.t.current(to)) this.t.out(to.node, { k: 'unlink', from, to });
  }

  monitor(p: Proc, to: Pid, ref: Ref): void {
    const t = this.t;
    if (!t.current(to)) {
      const reason = t.peers.has(to.node) ? 'noproc' : 'noconnection';
      p.deliver({ type: 'DOWN', ref, object: to, reason } satisfies DownMessage);
      return;
    }
    const m: Monitor = { ref, owner: p.self, target: to, object: to };
    (p.monitors ??= new Map()).set(ref.key, m);
    t.tie(to.node, p);
    t.out(to.node, { k: 'monitor', from: p.self, to, ref });
  }

  monitorName(p: Proc, object: RemoteName, ref: Ref): void {
    const t = this.t;
    if (!t.peers.has(object.node)) {
      p.deliver({ type: 'DOWN', ref, object, reason: 'noconnection' } satisfies DownMessage);
      return;
    }
    // The target pid is unknown until the remote node resolves the name; keyed by node.
    const m: Monitor = { ref, owner: p.self, target: new Pid(object.node, 0, 0), object };
    (p.monitors ??= new Map()).set(ref.key, m);
    t.tie(object.node, p);
    t.out(object.node, { k: 'monitor', from: p.self, to: object.name, ref });
  }

  demonitor(from: Pid, target: Pid, ref: Ref): void {
    this.t.out(target.node, { k: 'demonitor', from, ref });
  }

  /** A local process with a remote monitor owner ended. */
  down(owner: Pid, d: DownMessage): void {
    this.t.remoteMonitors.delete(d.ref.key);
    this.t.out(owner.node, { k: 'down', to: owner, ref: d.ref, object: d.object, reason: d.reason });
  }

  /**
   * A call to a remote server: one `call` signal, which also monitors the
   * server for the call. A pid of a node that is not connected (or of an old
   * incarnation) fails the call on the next microtask.
   */
  call(server: Pid | RemoteName, tag: number, caller: Pid | null, req: unknown): void {
    const t = this.t;
    if (!(server instanceof Pid)) {
      t.out(server.node, { k: 'call', to: server.name, tag, from: caller, req });
      return;
    }
    if (!t.current(server)) {
      const calls = t.node.calls;
      const pc = calls.pending.get(tag);
      if (pc !== undefined) queueMicrotask(() => calls.fail(pc, t.peers.has(server.node) ? 'noproc' : 'noconnection'));
      return;
    }
    t.out(server.node, { k: 'call', to: server, tag, from: caller, req });
  }

  /** A remote call ended without a reply from its server's node: end its monitor there. */
  demonitorForCall(serverNode: string, tag: number): void {
    const node = this.t.node;
    this.t.out(serverNode, { k: 'demonitor', from: null, ref: new Ref(node.name, tag, node.creation) });
  }

  /** A reply to a caller on another node; it also ends the call's monitor here, if any. */
  reply(from: From, value: unknown): void {
    this.t.unwatchCall(from.node, from.tag);
    this.t.out(from.node, { k: 'reply', tag: from.tag, value });
  }

  /** A local server with calls from other nodes pending ended: each caller gets a DOWN for its call. */
  callServerExited(p: Proc, reason: ExitReason): void {
    const t = this.t;
    p.remoteCallers = 0;
    for (const [peer, watched] of t.callWatch) {
      const creation = t.peers.get(peer);
      for (const [tag, q] of watched) {
        if (q !== p) continue;
        watched.delete(tag);
        if (creation !== undefined) t.out(peer, { k: 'down', to: null, ref: new Ref(peer, tag, creation), object: p.self, reason });
      }
    }
  }

  /** A process exited: drop it from the remote indexes (O(nodes)). */
  forget(p: Proc): void {
    if (this.t.nodeWatchers.size > 0) this.t.nodeWatchers.delete(p.self.key);
    const ties = this.t.ties;
    if (ties.size === 0) return;
    for (const s of ties.values()) s.delete(p);
  }
}
