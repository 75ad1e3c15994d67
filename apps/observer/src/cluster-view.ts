import { Rpc, formatReason, type Node, type NodeSnapshot, type SysEvent } from '@troupe/actor-core';
import type { WsTransport } from '@troupe/transport-ws';

/** One point of a node's charts. */
export interface Sample {
  /** ms since the epoch (the observer's clock). */
  t: number;
  msgsPerSec: number;
  processes: number;
  rss: number;
  lagP99: number | null;
}

/**
 * What the observer knows of one node. `connected: false` means no data is
 * shown for it: its snapshot and history are dropped when the connection
 * goes, and nodes only heard of through others never get any.
 */
export interface NodeView {
  name: string;
  connected: boolean;
  /** Where the observer heard of it: a `--join` URL or a connected node's link. */
  url: string | null;
  snapshot: NodeSnapshot | null;
  msgsPerSec: number;
  history: Sample[];
  error: string | null;
}

export interface ClusterViewOptions {
  /** ms between polls of every node. Default 1000. */
  intervalMs?: number;
  /** Chart points kept per node (at the interval: 5 minutes by default). Default 300. */
  historyPoints?: number;
  /** Nodes tracked at most (learned names beyond are ignored). Default 64. */
  maxNodes?: number;
  /** Per-request timeout to a node, ms. Default 2000. */
  timeoutMs?: number;
}

const EVENT_LOG = 1000;
const REDIAL_MS = 5000;

/**
 * The observer's model of the cluster, polled over the mesh from its hidden
 * node: each connected node's snapshot (charts from successive ones) and its
 * event log. Members are found through the links each connected node reports
 * and dialled (hidden) by their advertised URL.
 */
export class ClusterView {
  readonly nodes = new Map<string, NodeView>();
  readonly events: SysEvent[] = [];
  private readonly eventSeq = new Map<string, { creation: number; seq: number }>();
  private readonly lastDial = new Map<string, number>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private polling = false;
  private readonly o: Required<ClusterViewOptions>;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly node: Node,
    readonly transport: WsTransport,
    opts: ClusterViewOptions = {},
  ) {
    this.o = { intervalMs: opts.intervalMs ?? 1000, historyPoints: opts.historyPoints ?? 300, maxNodes: opts.maxNodes ?? 64, timeoutMs: opts.timeoutMs ?? 2000 };
    transport.on('nodedown', (e) => {
      const v = this.nodes.get(e.node);
      if (v === undefined) return;
      v.connected = false;
      v.snapshot = null;
      v.history = [];
      v.msgsPerSec = 0;
      v.error = `disconnected (${e.reason})`;
      this.changed();
    });
    transport.on('nodeup', (e) => {
      this.track(e.node, null).connected = true;
      void this.poll();
    });
  }

  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => void this.poll(), this.o.intervalMs);
    this.timer.unref();
    void this.poll();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Called after each poll round (the live channel pushes then). */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => void this.listeners.delete(fn);
  }

  /** Dials a member; its links are followed from then on. */
  async join(url: string): Promise<string> {
    const name = await this.transport.connect(url);
    this.track(name, url).connected = true;
    await this.poll();
    return name;
  }

  isConnected(name: string): boolean {
    return this.nodes.get(name)?.connected === true && this.transport.isConnected(name);
  }

  private track(name: string, url: string | null): NodeView {
    let v = this.nodes.get(name);
    if (v === undefined) {
      v = { name, connected: false, url, snapshot: null, msgsPerSec: 0, history: [], error: null };
      if (this.nodes.size < this.o.maxNodes) this.nodes.set(name, v);
    }
    if (url !== null) v.url = url;
    return v;
  }

  private changed(): void {
    for (const l of this.listeners) {
      try {
        l();
      } catch {
        // a listener (a live stream) failing must not stop polling
      }
    }
  }

  /** One round: snapshot and new events of every connected node, in parallel. */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const names = this.transport.nodes('connected');
      await Promise.all(names.map((n) => this.pollNode(n)));
      this.dialUnknown();
    } finally {
      this.polling = false;
    }
    this.changed();
  }

  private async pollNode(name: string): Promise<void> {
    const v = this.track(name, null);
    if (!this.nodes.has(name)) return;
    v.connected = true;
    const opts = { timeoutMs: this.o.timeoutMs };
    let s: NodeSnapshot;
    try {
      s = await Rpc.call<NodeSnapshot>(this.node, name, 'troupe.sys.node', [], opts);
    } catch (e) {
      v.error = e instanceof Error ? e.message : formatReason(e);
      return;
    }
    if (!this.isConnected(name)) return; // went down while the answer was on its way
    const prev = v.snapshot;
    const now = Date.now();
    if (prev !== null && prev.creation === s.creation && s.at > prev.at) {
      v.msgsPerSec = Math.max(0, ((s.messages - prev.messages) * 1000) / (s.at - prev.at));
    }
    v.snapshot = s;
    v.error = null;
    v.history.push({ t: now, msgsPerSec: v.msgsPerSec, processes: s.processes, rss: s.memory.rss, lagP99: s.lag?.p99 ?? null });
    if (v.history.length > this.o.historyPoints) v.history.splice(0, v.history.length - this.o.historyPoints);
    for (const p of s.mesh?.peers ?? []) if (!p.hidden && p.name !== this.node.name) this.track(p.name, p.url);
    await this.pollEvents(name, s.creation);
  }

  private async pollEvents(name: string, creation: number): Promise<void> {
    let cur = this.eventSeq.get(name);
    if (cur === undefined || cur.creation !== creation) this.eventSeq.set(name, (cur = { creation, seq: 0 }));
    let evs: SysEvent[];
    try {
      evs = await Rpc.call<SysEvent[]>(this.node, name, 'troupe.sys.events', [cur.seq], { timeoutMs: this.o.timeoutMs });
    } catch {
      return;
    }
    if (!Array.isArray(evs) || evs.length === 0) return;
    cur.seq = evs[evs.length - 1]!.seq;
    this.events.push(...evs);
    this.events.sort((a, b) => a.at - b.at);
    if (this.events.length > EVENT_LOG) this.events.splice(0, this.events.length - EVENT_LOG);
  }

  /** Members heard of through links but not connected: dialled (hidden), at most once per 5 s each. */
  private dialUnknown(): void {
    const now = Date.now();
    for (const v of this.nodes.values()) {
      if (v.connected || v.url === null || this.transport.isConnected(v.name)) continue;
      if (now - (this.lastDial.get(v.name) ?? 0) < REDIAL_MS) continue;
      this.lastDial.set(v.name, now);
      this.transport.connect(v.url).catch((e: unknown) => {
        v.error = `unreachable: ${e instanceof Error ? e.message : formatReason(e)}`;
      });
    }
  }

  /** The cluster for the page: connected nodes with data, the others by name and state only. */
  summary(): { observer: string; at: number; nodes: NodeView[] } {
    const nodes = [...this.nodes.values()].sort((a, b) => a.name.localeCompare(b.name));
    return { observer: this.node.name, at: Date.now(), nodes: nodes.map((v) => (v.connected ? v : { ...v, snapshot: null, history: [], msgsPerSec: 0 })) };
  }
}
