/**
 * Gateway events. Each is logged once, on the node where it happened, and
 * sent only to the nodes that have a listener (an open `/events` stream):
 * their hubs are members of a process group while they have one. Sending
 * every event to every node made each request cost N-1 messages and wake
 * every node, so gateway latency and CPU grew with the cluster.
 */
import { randomBytes } from 'node:crypto';
import { isPid, type Node, type Pid } from '@troupe/actor-core';
import { isPgEvent, MEMBERSHIP_SCOPE, ProcessGroups } from '@troupe/registry-crdt';

export const EVENT_TYPES = ['agent_started', 'agent_stopped', 'task_received', 'task_completed', 'node_up', 'node_down'] as const;
/** The events logged at info where they happen: an agent started or stopped. The others at debug. */
const INFO_EVENTS: ReadonlySet<string> = new Set(['agent_started', 'agent_stopped']);
export type GatewayEventType = (typeof EVENT_TYPES)[number];

export interface GatewayEvent {
  type: GatewayEventType;
  /** ISO time on the node where it happened. */
  at: string;
  /**
   * Where it happened: the agent's node for agent and task events; for
   * `node_up` / `node_down`, the node that observed it (each node reports
   * what it sees itself, so these are delivered locally, not re-broadcast).
   */
  node: string;
  /** The agent, for agent and task events. */
  agent?: string;
  /** Details: `{ generation, from }`, `{ task }`, `{ task, result }`, `{ reason }`, `{ peer }`... */
  data: Record<string, unknown>;
}

/** The prefix of the hub's process groups (one per services name and partition). */
export const eventGroups = (service: string, partition?: string): { hubs: string; streams: string } => {
  const base = `troupe_gateway:${service}${partition === undefined ? '' : `/${partition}`}:events`;
  return { hubs: `${base}:hubs`, streams: `${base}:streams` };
};

/** What crosses the wire: a tagged envelope, so stray messages on the topic are ignored. */
interface EventEnvelope {
  $gwev: GatewayEvent;
}

function isEventEnvelope(m: unknown): m is EventEnvelope {
  if (typeof m !== 'object' || m === null || !('$gwev' in m)) return false;
  const e = (m as EventEnvelope).$gwev as Partial<GatewayEvent> | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.type === 'string' &&
    (EVENT_TYPES as readonly string[]).includes(e.type) &&
    typeof e.at === 'string' &&
    typeof e.node === 'string' &&
    (e.agent === undefined || typeof e.agent === 'string') &&
    typeof e.data === 'object' &&
    e.data !== null
  );
}

export type EventListener = (e: GatewayEvent, seq: number) => void;

/** Longest text of one field in an event's log line. */
const LOG_FIELD_MAX = 200;

/** An event's data for a log line: a task as its id and action, any other value at most LOG_FIELD_MAX characters. */
function logFields(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) {
    if (k === 'task' && typeof v === 'object' && v !== null) {
      const t = v as { id?: unknown; action?: unknown };
      out['task'] = String(t.id);
      out['action'] = String(t.action);
    } else if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) {
      out[k] = v;
    } else {
      let text: string;
      try {
        text = typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));
      } catch {
        text = String(v);
      }
      out[k] = text.length > LOG_FIELD_MAX ? `${text.slice(0, LOG_FIELD_MAX)}… (${text.length} chars)` : text;
    }
  }
  return out;
}

/** Asks a hub to confirm it sees the sender's hub among the stream holders. */
interface Hello {
  $gwhello: string;
  from: Pid;
}
interface HelloAck {
  $gwack: string;
  node: string;
}
const isHello = (m: unknown): m is Hello => typeof m === 'object' && m !== null && typeof (m as Hello).$gwhello === 'string' && isPid((m as Hello).from);
const isHelloAck = (m: unknown): m is HelloAck => typeof m === 'object' && m !== null && typeof (m as HelloAck).$gwack === 'string' && typeof (m as HelloAck).node === 'string';

/** How long a new stream waits for the other hubs to confirm they will send to it (a hub that does not answer in time — a dying node — is not waited for). */
export const INTEREST_TIMEOUT_MS = 2000;
/** Hellos held for stream holders this replica does not list yet, at most (one per remote hub). */
const MAX_PENDING_HELLOS = 1024;

/**
 * Events as this node sees them. `subscribe` returns an unsubscribe
 * function; a listener that throws is dropped from that delivery only.
 *
 * The hub process is always a member of the `hubs` group, and of the
 * `streams` group while this node has listeners. `publish` delivers here
 * and sends one message to each other member of `streams`. Group membership
 * replicates with a delay, so the first listener's `whenInterestSeen()`
 * asks every other hub to confirm that its replica lists this one: after
 * that, every event published anywhere reaches this node. Events from one
 * node arrive in the order it published them (one link, one sender).
 */
export class EventHub {
  private readonly listeners = new Set<EventListener>();
  private seq = 0;
  private pg: ProcessGroups | undefined;
  private hub: Pid | undefined;
  private watcher: Pid | undefined;
  /** Resolves once the other hubs confirmed they send here; replaced each time listeners go from none to some. */
  private interest: Promise<void> = Promise.resolve();
  /** Open hello rounds: tag -> nodes still to answer, and the round's end. */
  private readonly rounds = new Map<string, { waiting: Set<string>; done: () => void }>();
  /** Remote hubs whose hello arrived before their stream membership: pid key -> (hub, tag). */
  private readonly pendingHellos = new Map<string, Hello>();
  private readonly groups: { hubs: string; streams: string };

  constructor(
    private readonly node: Node,
    service: string,
    partition: string | undefined,
    private readonly logLevel: 'debug' | 'info' | 'silent',
  ) {
    this.groups = eventGroups(service, partition);
  }

  /** Starts the hub and the node watcher (node_up / node_down). */
  async start(): Promise<void> {
    const pg = (this.pg = await ProcessGroups.ensure(this.node, MEMBERSHIP_SCOPE));
    this.hub = this.node.spawn(
      {
        name: 'gateway_events',
        handle: (m: unknown) => {
          if (isEventEnvelope(m)) this.deliver(m.$gwev, false);
          else if (isHello(m)) this.onHello(m);
          else if (isHelloAck(m)) this.onAck(m);
          else if (isPgEvent(m) && m.event === 'join' && m.group === this.groups.streams) {
            for (const p of m.pids) {
              const h = this.pendingHellos.get(p.key);
              if (h !== undefined) this.onHello(h);
            }
          } else if (isPgEvent(m) && m.event === 'leave') {
            for (const p of m.pids) this.pendingHellos.delete(p.key);
          }
        },
      },
      {},
    );
    pg.join(this.groups.hubs, this.hub);
    pg.monitor(this.hub, this.groups.streams);
    this.watcher = this.node.spawn(
      {
        name: 'gateway_node_watcher',
        handle: (m: unknown) => {
          const msg = m as { type?: unknown; node?: unknown; reason?: unknown };
          if (msg?.type !== 'nodeup' && msg?.type !== 'nodedown') return;
          const peer = String(msg.node);
          const data: Record<string, unknown> = { peer };
          if (msg.type === 'nodedown') {
            data['reason'] = String(msg.reason);
            for (const r of this.rounds.values()) if (r.waiting.delete(peer) && r.waiting.size === 0) r.done();
          }
          // Every node sees its peers come and go itself: deliver here only, or each event would arrive N-1 times.
          this.publish({ type: msg.type === 'nodeup' ? 'node_up' : 'node_down', at: new Date().toISOString(), node: this.node.name, data }, true);
        },
      },
      {},
    );
    this.node.dist.monitorNodes(this.watcher, true);
  }

  /** Delivers here and sends to every other node with a listener (or to this node only, `local`). Never throws. */
  publish(e: GatewayEvent, local = false): void {
    this.deliver(e, true);
    if (local || this.pg === undefined || !this.pg.running) return;
    try {
      const env: EventEnvelope = { $gwev: e };
      for (const p of this.pg.members(this.groups.streams)) if (p.node !== this.node.name) this.node.send(p, env);
    } catch (err) {
      this.node.logger.warn('gateway: event not sent', { type: e.type, error: String(err) });
    }
  }

  /** Adds a listener; the first one makes this node a stream holder (see `whenInterestSeen`). */
  subscribe(l: EventListener): () => void {
    this.listeners.add(l);
    if (this.listeners.size === 1) this.becomeHolder();
    return () => {
      if (this.listeners.delete(l) && this.listeners.size === 0 && this.hub !== undefined && this.pg?.running === true) {
        this.pg.leave(this.groups.streams, this.hub);
      }
    };
  }

  /**
   * Resolves once every other hub that answered within INTEREST_TIMEOUT_MS
   * confirmed it sends its events here: what a stream waits for before it
   * tells its client `ready`.
   */
  whenInterestSeen(): Promise<void> {
    return this.interest;
  }

  /** The hub's process groups and their member counts (introspection). */
  groupSizes(): { group: string; members: number }[] {
    const pg = this.pg;
    if (pg === undefined || !pg.running) return [];
    return [this.groups.hubs, this.groups.streams].map((group) => ({ group, members: pg.members(group).length }));
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  stop(): void {
    for (const p of [this.hub, this.watcher]) if (isPid(p)) this.node.exit(p, 'shutdown');
    this.hub = this.watcher = undefined;
    this.listeners.clear();
    for (const r of this.rounds.values()) r.done();
  }

  private becomeHolder(): void {
    const pg = this.pg;
    const hub = this.hub;
    if (pg === undefined || hub === undefined || !pg.running) return;
    pg.join(this.groups.streams, hub);
    const others = pg.members(this.groups.hubs).filter((p) => p.node !== this.node.name);
    if (others.length === 0) {
      this.interest = Promise.resolve();
      return;
    }
    const tag = randomBytes(9).toString('base64url');
    this.interest = new Promise<void>((resolve) => {
      const timer = setTimeout(() => done(), INTEREST_TIMEOUT_MS);
      timer.unref();
      const done = (): void => {
        clearTimeout(timer);
        this.rounds.delete(tag);
        resolve();
      };
      this.rounds.set(tag, { waiting: new Set(others.map((p) => p.node)), done });
    });
    const hello: Hello = { $gwhello: tag, from: hub };
    for (const p of others) this.node.send(p, hello);
  }

  /** A remote hub asks whether this replica lists it as a stream holder: answer once it does. */
  private onHello(h: Hello): void {
    const listed = this.pg?.members(this.groups.streams).some((p) => p.key === h.from.key) === true;
    if (listed) {
      this.pendingHellos.delete(h.from.key);
      this.node.send(h.from, { $gwack: h.$gwhello, node: this.node.name } satisfies HelloAck);
      return;
    }
    if (!this.pendingHellos.has(h.from.key) && this.pendingHellos.size >= MAX_PENDING_HELLOS) {
      // Bounded: the oldest waiting hub loses its confirmation (its stream then waits out INTEREST_TIMEOUT_MS).
      const oldest = this.pendingHellos.keys().next().value;
      if (oldest !== undefined) this.pendingHellos.delete(oldest);
    }
    this.pendingHellos.set(h.from.key, h);
  }

  private onAck(a: HelloAck): void {
    const r = this.rounds.get(a.$gwack);
    if (r !== undefined && r.waiting.delete(a.node) && r.waiting.size === 0) r.done();
  }

  /** Hands `e` to the listeners here; `log`: this is the node where it happened, the one that logs it. */
  private deliver(e: GatewayEvent, log: boolean): void {
    const seq = ++this.seq;
    if (log && this.logLevel !== 'silent') {
      // Task events come at the rate clients send tasks, and carry their contents: debug, and summarised.
      // Node events are the transport's nodeup/nodedown, which the node logs already: debug too.
      const level = this.logLevel === 'debug' || !INFO_EVENTS.has(e.type) ? 'debug' : 'info';
      const { type, node, agent, data } = e;
      const logger = this.node.logger;
      if (logger.enabled?.(level) !== false) logger[level](`gateway event ${type}`, { event: type, node, ...(agent !== undefined ? { agent } : {}), ...logFields(data) });
    }
    if (this.listeners.size === 0) return;
    for (const l of [...this.listeners]) {
      try {
        l(e, seq);
      } catch (err) {
        this.node.logger.warn('gateway: event listener failed', { type: e.type, error: String(err) });
      }
    }
  }
}
