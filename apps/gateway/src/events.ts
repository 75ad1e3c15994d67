/**
 * Gateway events: broadcast with PubSub on one topic, received on every node
 * by a small subscriber process that logs them (node.logger) and hands them
 * to local listeners (the SSE streams).
 */
import { isPid, type Node, type Pid } from '@troupe/actor-core';
import type { PubSub } from '@troupe/registry-crdt';

export const EVENT_TYPES = ['agent_started', 'agent_stopped', 'task_received', 'task_completed', 'node_up', 'node_down'] as const;
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

/** The PubSub topic carrying events (one per services name). */
export const eventTopic = (service: string): string => `troupe_gateway:${service}:events`;

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

/**
 * Events as this node receives them. `subscribe` returns an unsubscribe
 * function; a listener that throws is dropped from that delivery only.
 */
export class EventHub {
  private readonly listeners = new Set<EventListener>();
  private seq = 0;
  private subscriber: Pid | undefined;
  private watcher: Pid | undefined;

  constructor(
    private readonly node: Node,
    private readonly pubsub: PubSub,
    private readonly topic: string,
    private readonly logLevel: 'debug' | 'info' | 'silent',
  ) {}

  /** Starts the subscriber process and the node watcher (node_up / node_down). */
  start(): void {
    this.subscriber = this.node.spawn(
      {
        name: 'gateway_events',
        handle: (m: unknown) => {
          if (isEventEnvelope(m)) this.deliver(m.$gwev);
        },
      },
      {},
    );
    this.pubsub.subscribe(this.subscriber, this.topic);
    this.watcher = this.node.spawn(
      {
        name: 'gateway_node_watcher',
        handle: (m: unknown) => {
          const msg = m as { type?: unknown; node?: unknown; reason?: unknown };
          if (msg?.type !== 'nodeup' && msg?.type !== 'nodedown') return;
          const data: Record<string, unknown> = { peer: String(msg.node) };
          if (msg.type === 'nodedown') data['reason'] = String(msg.reason);
          // Every node sees its peers come and go itself: deliver here only, or each event would arrive N-1 times.
          this.publish({ type: msg.type === 'nodeup' ? 'node_up' : 'node_down', at: new Date().toISOString(), node: this.node.name, data }, true);
        },
      },
      {},
    );
    this.node.dist.monitorNodes(this.watcher, true);
  }

  /** Broadcasts to every node running the services (or to this node only, `local`). Never throws. */
  publish(e: GatewayEvent, local = false): void {
    const env: EventEnvelope = { $gwev: e };
    try {
      if (local || !this.pubsub.isRunning) this.pubsub.localBroadcast(this.topic, env);
      else this.pubsub.broadcast(this.topic, env);
    } catch (err) {
      this.node.logger.warn('gateway: event not published', { type: e.type, error: String(err) });
    }
  }

  subscribe(l: EventListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  stop(): void {
    for (const p of [this.subscriber, this.watcher]) if (isPid(p)) this.node.exit(p, 'shutdown');
    this.subscriber = this.watcher = undefined;
    this.listeners.clear();
  }

  private deliver(e: GatewayEvent): void {
    const seq = ++this.seq;
    if (this.logLevel !== 'silent') {
      // Task events come at the rate clients send tasks, and carry their contents: debug, and summarised.
      const level = this.logLevel === 'debug' || e.type === 'task_received' || e.type === 'task_completed' ? 'debug' : 'info';
      const { type, node, agent, data } = e;
      this.node.logger[level](`gateway event ${type}`, { event: type, node, ...(agent !== undefined ? { agent } : {}), ...logFields(data) });
    }
    for (const l of [...this.listeners]) {
      try {
        l(e, seq);
      } catch (err) {
        this.node.logger.warn('gateway: event listener failed', { type: e.type, error: String(err) });
      }
    }
  }
}
