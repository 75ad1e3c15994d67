import { Pid, Ref } from '../pid.js';
import { formatReason, reasonFromThrown } from '../exit-reason.js';
import type { DownMessage, RemoteName } from '../types.js';
import type { Proc } from '../internal/process.js';
import { CallEnvelope } from '../internal/calls.js';
import type { Signal } from './signals.js';
import { CodecError, type DecodedFrame } from './codec.js';
import type { PeerTable } from './peer-table.js';
import type { RemoteSpawn } from './remote-spawn.js';

/**
 * Signals from peers, applied to local processes. Signals from a node that
 * is not connected are dropped (fail closed); a signal claiming a sender of
 * another node is dropped; signals naming pids of another incarnation, or
 * not of this node, are ignored (or answered with `noproc`). Nothing in a
 * signal can throw out of here.
 */
export class Incoming {
  constructor(
    private readonly t: PeerTable,
    private readonly spawn: RemoteSpawn,
  ) {}

  /** A signal from `fromNode`, in the order it was sent. */
  handle(fromNode: string, s: Signal): void {
    if (!this.t.peers.has(fromNode)) return;
    try {
      this.dispatch(fromNode, s);
    } catch (e) {
      this.warn(fromNode, String((s as { k?: unknown }).k), e);
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
    const t = this.t;
    if (!t.peers.has(fromNode)) return;
    const node = t.node;
    const epoch = t.epoch;
    let lastId = -1;
    let lastCr = -1;
    let last: Proc | null = null;
    // Peers change rarely: look the sender up again only once some node went up or down.
    const open = (): boolean => (conn === null || !conn.closed) && (t.epoch === epoch || t.peers.has(fromNode));
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
            this.warn(fromNode, 'send', e);
          }
        }
        return true;
      },
      reply: (tag, value) => {
        if (!open()) return false;
        // As `dispatch` of a reply: only the call's server node settles it.
        try {
          node.calls.settle(tag, value, fromNode);
        } catch (e) {
          this.warn(fromNode, 'reply', e);
        }
        return true;
      },
      call: (id, creation, tag, from, req) => {
        if (!open()) return false;
        // As `dispatch` of a call; the caller is a process of the sender (its current incarnation).
        try {
          const caller = from === null ? null : new Pid(fromNode, from, t.peers.get(fromNode)!);
          const p = node.lookupLocal(id, creation);
          this.callIn(fromNode, p, p === null ? new Pid(node.name, id, creation) : null, tag, caller, req);
        } catch (e) {
          this.warn(fromNode, 'call', e);
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

  private warn(fromNode: string, kind: string, e: unknown): void {
    this.t.node.logger.warn('distribution: signal failed', { from: fromNode, kind, error: formatReason(reasonFromThrown(e)) });
  }

  /**
   * A call from `fromNode` to local `p`; the server's node monitors `p` for
   * the call until it replies. With `p` null (no such process) the caller's
   * monitor fires `noproc` at once, naming `object` (given only then).
   */
  private callIn(fromNode: string, p: Proc | null, object: Pid | RemoteName | null, tag: number, from: Pid | null, req: unknown): void {
    const t = this.t;
    if (p === null) {
      t.out(fromNode, { k: 'down', to: null, ref: new Ref(fromNode, tag, t.peers.get(fromNode)!), object: object!, reason: 'noproc' });
      return;
    }
    let watched = t.callWatch.get(fromNode);
    if (watched === undefined) t.callWatch.set(fromNode, (watched = new Map()));
    if (!watched.has(tag)) p.remoteCallers++;
    watched.set(tag, p);
    p.deliver(new CallEnvelope({ node: fromNode, tag, pid: from }, req));
  }

  /** A pid that can be the sender of a signal from `fromNode` (its current incarnation). */
  private ofPeer(pid: Pid, fromNode: string): boolean {
    return pid instanceof Pid && pid.node === fromNode && this.t.peers.get(fromNode) === pid.creation;
  }

  private dispatch(fromNode: string, s: Signal): void {
    const t = this.t;
    const node = t.node;
    switch (s.k) {
      case 'send': {
        const p = t.local(s.to);
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
        const p = t.local(s.to);
        if (p !== null) node.receiveExit(s.from, p, s.reason, s.link);
        return;
      }
      case 'link': {
        if (!this.ofPeer(s.from, fromNode)) return;
        const p = t.local(s.to);
        if (p === null) {
          // As a link signal: it also removes the requester's half of the link.
          t.out(fromNode, { k: 'exit', from: s.to, to: s.from, reason: 'noproc', link: true });
          return;
        }
        (p.links ??= new Map()).set(s.from.key, s.from);
        t.tie(fromNode, p);
        return;
      }
      case 'unlink': {
        if (!this.ofPeer(s.from, fromNode)) return;
        t.local(s.to)?.links?.delete(s.from.key);
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
          p = t.local(s.to);
        }
        if (p === null) {
          t.out(fromNode, { k: 'down', to: s.from, ref: s.ref, object, reason: 'noproc' });
          return;
        }
        const owner = s.from ?? new Pid(fromNode, 0, t.peers.get(fromNode)!);
        (p.monitoredBy ??= new Map()).set(s.ref.key, { ref: s.ref, owner, target: p.self, object });
        t.remoteMonitors.set(s.ref.key, p);
        t.tie(fromNode, p);
        return;
      }
      case 'call': {
        if (s.from !== null && !this.ofPeer(s.from, fromNode)) return;
        const to = s.to;
        if (typeof to === 'string') {
          const pid = node.whereis(to);
          this.callIn(fromNode, pid === undefined ? null : node.lookup(pid), { name: to, node: node.name }, s.tag, s.from, s.req);
        } else {
          this.callIn(fromNode, t.local(to), to, s.tag, s.from, s.req);
        }
        return;
      }
      case 'demonitor': {
        // A call's monitor (ref id = call tag).
        if (s.from === null && s.ref.node === fromNode && t.unwatchCall(fromNode, s.ref.id)) return;
        const p = t.remoteMonitors.get(s.ref.key);
        if (p === undefined) return;
        const m = p.monitoredBy?.get(s.ref.key);
        if (m === undefined || m.owner.node !== fromNode) return;
        p.monitoredBy!.delete(s.ref.key);
        t.remoteMonitors.delete(s.ref.key);
        return;
      }
      case 'down': {
        if (s.to === null || s.to.id === 0) {
          // A call's monitor (ref id = call tag): only the server's node may end it.
          const pc = node.calls.pending.get(s.ref.id);
          if (pc !== undefined && pc.serverNode === fromNode && s.ref.node === node.name) node.calls.fail(pc, s.reason);
          return;
        }
        const p = t.local(s.to);
        if (p === null || p.monitors === null) return;
        const m = p.monitors.get(s.ref.key);
        if (m === undefined || m.target.node !== fromNode) return;
        p.monitors.delete(s.ref.key);
        p.deliver({ type: 'DOWN', ref: m.ref, object: m.object, reason: s.reason } satisfies DownMessage);
        return;
      }
      case 'reply': {
        // Settles only a call this node sent to `fromNode` (see `Calls.settle`).
        node.calls.settle(s.tag, s.value, fromNode);
        return;
      }
      case 'reply_failed': {
        // The server node could not encode its reply: the call fails now, as `reply` settles it.
        const pc = node.calls.pending.get(s.tag);
        if (pc !== undefined && pc.server === null && pc.serverNode === fromNode) {
          node.calls.fail(pc, new CodecError('TROUPE_ERR_ENCODE', `the reply from ${fromNode} could not be sent: ${s.message}`));
        }
        return;
      }
      case 'spawn_request':
        if (s.from !== null && !this.ofPeer(s.from, fromNode)) return;
        this.spawn.handleRequest(fromNode, s);
        return;
      case 'spawn_reply':
        this.spawn.handleReply(fromNode, s);
        return;
      default:
        node.logger.warn('distribution: unknown signal ignored', { from: fromNode, kind: String((s as { k?: unknown }).k) });
    }
  }
}
