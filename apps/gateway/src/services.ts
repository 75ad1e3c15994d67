/**
 * The cluster services behind the gateway, one instance per node: a
 * Registry (agent names), a DistributedSupervisor (agent placement and
 * fail-over), an EventHub (gateway events, to the nodes with a stream open)
 * and a PubSub for the application's own topics, all sharing one name.
 * `AgentServices` is also the programmatic API the JSON-RPC methods call.
 */
import {
  CallExitError,
  CallTimeoutError,
  GenServer,
  NodeDownError,
  NoProcError,
  TroupeError,
  type Node,
} from '@troupe/actor-core';
import { RevisionConflictError, type DurableStateStore } from '@troupe/persistence';
import { DistributedSupervisor, PubSub, Registry, type DistStartChildResult, type MemberInfo, type MemberStatus } from '@troupe/registry-crdt';
import { agentBehaviour, taskBytes, type AgentCall, type AgentState, type EnqueueReply, type NextReply, type Task } from './agent.js';
import type { MessageIdRetention } from './recent-ids.js';
import { ErrorCode, GatewayError, agentNotFound } from './errors.js';
import { EventHub } from './events.js';
import { publicMessage, publicReason } from './public-reason.js';

export interface AgentServicesOptions {
  /** Name shared by the Registry, DistributedSupervisor and PubSub (nodes with the same name form one cluster of agents). Default `agents`. */
  name?: string;
  /** Only nodes started with the same partition share agents (see registry-crdt membership). */
  partition?: string;
  /** Tasks an agent holds at most; SendMessage beyond it fails with -32005. Default 1000. */
  maxQueue?: number;
  /** Bytes of queued tasks (their params as JSON) an agent holds at most; SendMessage beyond it fails with -32005. Default 1 MiB. */
  maxQueueBytes?: number;
  /** Largest task (its params as JSON, in bytes); a larger one is -32602. Default 65536. */
  maxTaskBytes?: number;
  /**
   * Agents in the whole cluster at most (as this node's replica counts them); StartAgent beyond it
   * fails with -32006. Concurrent starts through several nodes may overshoot by the few in flight. Default 1000.
   */
  maxAgents?: number;
  /** Timeout of each call to an agent, ms. Default 5000. */
  callTimeoutMs?: number;
  /**
   * How a node logs the events that happen on it: `info` (default) logs agent and node events at info
   * and task events at debug; `debug` logs all at debug; `silent` none. Task contents are truncated.
   */
  logEvents?: 'debug' | 'info' | 'silent';
  /** How long StartAgent waits for the new name to be visible on this node before answering (read-your-writes), ms. Default 2000. */
  visibleWithinMs?: number;
  /** A dead node's agents are restarted at once by the first survivor of their ranking; later ones step in after this (DistributedSupervisor). Default 2000. */
  orphanGraceMs?: number;
  /**
   * Durable agents: each agent's queue, counters and processed message ids are stored here before
   * it answers, so after a crash of its node a survivor recovers them. Every node of the cluster
   * must be given the same store (one SQLite file on one host, PostgreSQL across hosts). Absent:
   * agents live in memory (handed over on a drain, lost with their node). The caller owns the store
   * (closes it after `stop`).
   */
  store?: DurableStateStore;
  /** How many SendMessage `messageId`s each agent remembers with their replies, and how long. Default 1000, 24 h. */
  messageIds?: MessageIdRetention;
}

export interface AgentStarted {
  name: string;
  node: string;
  status: 'started';
}

export interface AgentQueued {
  status: 'queued';
  queueLength: number;
  task: Task;
}

export interface AgentListEntry {
  name: string;
  node: string;
  generation: number;
}

export interface MemberView {
  node: string;
  status: MemberStatus;
}

export interface ClusterInfo {
  self: string;
  connected: string[];
  totalNodes: number;
  members: { registry: MemberView[]; supervisor: MemberView[]; pubsub: MemberView[] };
  /** Agents cluster-wide and on this node, as this node sees them. */
  agents: { total: number; local: number };
}

/** The name of the supervisor behaviour that starts agents (one per services name). */
const behaviourName = (service: string): string => `troupe_gateway_agent:${service}`;

export class AgentServices {
  readonly name: string;
  readonly events: EventHub;
  private readonly behaviour: string;
  private readonly callTimeoutMs: number;
  private readonly visibleWithinMs: number;
  private readonly maxTaskBytes: number;
  private readonly maxAgents: number;
  private readonly store: DurableStateStore | undefined;
  private readonly persistenceId: (agent: string) => string;
  private stopped = false;

  private constructor(
    readonly node: Node,
    readonly registry: Registry,
    readonly supervisor: DistributedSupervisor,
    readonly pubsub: PubSub,
    events: EventHub,
    opts: AgentServicesOptions,
  ) {
    this.name = opts.name ?? 'agents';
    this.events = events;
    this.behaviour = behaviourName(this.name);
    this.callTimeoutMs = opts.callTimeoutMs ?? 5000;
    this.visibleWithinMs = opts.visibleWithinMs ?? 2000;
    this.maxTaskBytes = opts.maxTaskBytes ?? 64 * 1024;
    this.maxAgents = opts.maxAgents ?? 1000;
    this.store = opts.store;
    this.persistenceId = agentPersistenceId(this.name, opts.partition);
  }

  /** Whether agents are durable (a store is configured). */
  get durable(): boolean {
    return this.store !== undefined;
  }

  /** Starts the services on `node`; resolves once they synced with the members that answered. */
  static async start(node: Node, opts: AgentServicesOptions = {}): Promise<AgentServices> {
    const name = opts.name ?? 'agents';
    const maxQueue = opts.maxQueue ?? 1000;
    const maxQueueBytes = opts.maxQueueBytes ?? 1024 * 1024;
    const ids = opts.messageIds ?? {};
    for (const [k, v] of [['maxQueue', maxQueue], ['maxQueueBytes', maxQueueBytes], ['maxTaskBytes', opts.maxTaskBytes ?? 1], ['maxAgents', opts.maxAgents ?? 1], ['messageIds.count', ids.count ?? 1], ['messageIds.maxAgeMs', ids.maxAgeMs ?? 1]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new TypeError(`startAgentServices: ${k} must be an integer >= 1, got ${String(v)}`);
    }
    const part = opts.partition !== undefined ? { partition: opts.partition } : {};
    let pubsub: PubSub;
    try {
      pubsub = await PubSub.start(node, { name, ...part });
    } catch (e) {
      throw new Error(`startAgentServices: cannot start the '${name}' services on ${node.name} (already running there?): ${e instanceof Error ? e.message : String(e)}`);
    }
    const events = new EventHub(node, name, opts.partition, opts.logEvents ?? 'info');
    let registry: Registry | undefined;
    let supervisor: DistributedSupervisor;
    try {
      await events.start();
      // Registered before the supervisor starts: a peer may place an agent here as soon as we are a member.
      DistributedSupervisor.registerBehaviour(
        node,
        behaviourName(name),
        agentBehaviour(node, {
          maxQueue,
          maxQueueBytes,
          messageIds: ids,
          publish: (e) => events.publish(e),
          store: opts.store,
          persistenceId: agentPersistenceId(name, opts.partition),
        }),
      );
      registry = await Registry.start(node, { name, ...part });
      supervisor = await DistributedSupervisor.start(node, {
        name,
        registry,
        ...part,
        ...(opts.orphanGraceMs !== undefined ? { orphanGraceMs: opts.orphanGraceMs } : {}),
      });
      await registry.whenReady();
    } catch (e) {
      // Half-started (e.g. these services already run on this node): leave nothing behind.
      events.stop();
      await pubsub.stop();
      await registry?.stop();
      throw e;
    }
    return new AgentServices(node, registry, supervisor, pubsub, events, opts);
  }

  // ---- the methods behind JSON-RPC ------------------------------------------------------------

  /** Places a new agent on a member (rendezvous hash of its name); a taken name is `-32002`. */
  async startAgent(name: string): Promise<AgentStarted> {
    this.check();
    const holder = this.registry.whereisName(name);
    if (holder !== undefined) throw exists(name, holder.node);
    const count = this.listAgents().length;
    if (count >= this.maxAgents) {
      throw new GatewayError(ErrorCode.TooManyAgents, `the cluster runs ${count} agents, the limit (maxAgents ${this.maxAgents}); StopAgent one first`, { limit: this.maxAgents });
    }
    let r: DistStartChildResult;
    try {
      r = await this.supervisor.startChild({ behaviour: this.behaviour, name, args: { name }, restart: 'permanent', shutdown: 2000 });
    } catch (e) {
      throw mapCallError(e, name, this.node.name);
    }
    if (r === 'ignore') throw new GatewayError(ErrorCode.InternalError, `agent '${name}' was not started (ignored)`);
    if ('error' in r) {
      const err = r.error;
      if (err === 'no_alive_members' || err === 'not_running') {
        throw new GatewayError(ErrorCode.NodeUnavailable, `no node can host agents right now (${err}); check GetClusterInfo`, { reason: err });
      }
      if ('already_started' in err) throw exists(name, err.node);
      if ('start_failed' in err) throw new GatewayError(ErrorCode.InternalError, `agent '${name}' failed to start on ${err.node}: ${publicReason(err.start_failed)}`, { node: err.node });
      throw new GatewayError(ErrorCode.InternalError, `agent '${name}': ${publicReason(err)}`);
    }
    await this.waitVisible(name);
    return { name, node: r.node, status: 'started' };
  }

  /**
   * Queues a task. With `messageId`, a retry of the same message (same agent, same id, within the
   * retention) queues nothing and gets the first answer again: the same task id, the same
   * queueLength, or the same queue_full error.
   */
  async sendMessage(agent: string, action: string, params: Record<string, unknown>, messageId?: string): Promise<AgentQueued> {
    const bytes = taskBytes(params);
    if (bytes > this.maxTaskBytes) {
      throw new GatewayError(ErrorCode.InvalidParams, `invalid params: 'params' is ${bytes} bytes as JSON; a task is at most ${this.maxTaskBytes} (maxTaskBytes)`, { param: 'params', limit: this.maxTaskBytes });
    }
    const req: AgentCall = { op: 'enqueue', action, params, via: this.node.name, bytes, ...(messageId !== undefined ? { messageId } : {}) };
    const r = await this.call<EnqueueReply>(agent, req);
    if (!r.ok) {
      const what = r.queueLength >= r.limit ? `${r.queueLength} tasks queued (the limit)` : `${r.queueBytes} bytes queued, and this task (${bytes} bytes) would pass the limit of ${r.limitBytes}`;
      throw new GatewayError(ErrorCode.QueueFull, `agent '${agent}' has ${what}; call ProcessNext first`, { agent, limit: r.limit, limitBytes: r.limitBytes });
    }
    // The agent answers without the params (its remembered replies stay small): they are this request's.
    const { id, receivedAt, via, messageId: mid } = r.task;
    const task: Task = { id, action: r.task.action, params, receivedAt, via, ...(mid !== undefined ? { messageId: mid } : {}) };
    return { status: 'queued', queueLength: r.queueLength, task };
  }

  processNext(agent: string): Promise<NextReply> {
    return this.call<NextReply>(agent, { op: 'next' });
  }

  getAgentState(agent: string): Promise<AgentState> {
    return this.call<AgentState>(agent, { op: 'state' });
  }

  /** Every agent in the cluster with its node (this node's replica: eventually consistent), sorted by name. */
  listAgents(): AgentListEntry[] {
    this.check();
    return this.supervisor
      .whichChildren()
      .filter((c) => c.behaviour === this.behaviour)
      .map((c) => ({ name: c.id, node: c.node, generation: c.generation }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Stops the agent wherever it runs; it is not restarted. */
  async stopAgent(agent: string): Promise<{ name: string; node: string; status: 'stopped' }> {
    this.check();
    const where = this.listAgents().find((a) => a.name === agent);
    if (where === undefined) throw agentNotFound(agent, this.node.name);
    let r: 'ok' | { error: 'not_found' };
    try {
      r = await this.supervisor.terminateChild(agent);
    } catch (e) {
      throw mapCallError(e, agent, this.node.name);
    }
    if (r !== 'ok') throw agentNotFound(agent, this.node.name);
    if (this.store !== undefined) await this.forget(agent);
    return { name: agent, node: where.node, status: 'stopped' };
  }

  /**
   * A stopped durable agent's stored state goes too: a later StartAgent of the name starts empty.
   * The agent has exited (terminateChild waits for it), so nothing writes meanwhile; a conflict
   * means a second instance (a netsplit) wrote, and the newer revision is deleted instead.
   */
  private async forget(agent: string): Promise<void> {
    const id = this.persistenceId(agent);
    for (let attempt = 0; ; attempt++) {
      try {
        const cur = await this.store!.get(id);
        if (cur === undefined) return;
        await this.store!.delete(id, cur.revision);
        return;
      } catch (e) {
        if (e instanceof RevisionConflictError && attempt < 3) continue;
        throw new GatewayError(ErrorCode.InternalError, `agent '${agent}' stopped, but its stored state could not be deleted (a later StartAgent of the name will recover it): ${publicMessage(e)}`, { agent });
      }
    }
  }

  clusterInfo(): ClusterInfo {
    const connected = this.node.dist.nodes();
    const view = (ms: MemberInfo[]): MemberView[] => ms.map((m) => ({ node: m.node, status: m.status })).sort((a, b) => (a.node < b.node ? -1 : 1));
    const agents = this.stopped ? [] : this.listAgents();
    return {
      self: this.node.name,
      connected,
      totalNodes: connected.length + 1,
      members: { registry: view(this.registry.members()), supervisor: view(this.supervisor.members()), pubsub: view(this.pubsub.members()) },
      agents: { total: agents.length, local: agents.filter((a) => a.node === this.node.name).length },
    };
  }

  // ---- life cycle ------------------------------------------------------------------------------

  get running(): boolean {
    return !this.stopped;
  }

  /**
   * Leaves the cluster of agents. `drain` (default): this node's agents are
   * handed over with their queues to the nodes that take them next, before
   * the services stop. Without it they stop here and survivors restart them
   * empty (as after a crash).
   */
  async stop(opts: { drain?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (opts.drain ?? true) await this.supervisor.drain();
    else await this.supervisor.stop();
    this.events.stop();
    await this.pubsub.stop();
    await this.registry.stop();
  }

  // ---- internals -------------------------------------------------------------------------------

  private check(): void {
    if (this.stopped) throw new GatewayError(ErrorCode.NodeUnavailable, `the agent services on ${this.node.name} are stopped`);
  }

  private async call<R>(agent: string, req: AgentCall): Promise<R> {
    this.check();
    if (this.registry.whereisName(agent) === undefined) throw agentNotFound(agent, this.node.name);
    try {
      return await GenServer.call<R>(this.node, { via: this.registry, name: agent }, req, this.callTimeoutMs);
    } catch (e) {
      throw mapCallError(e, agent, this.node.name);
    }
  }

  /**
   * Bounded: the registry and supervisor replicas learn the claim from the agent's node a few ms
   * after the start returned. Both, so the next request here finds the agent and counts it (maxAgents).
   */
  private async waitVisible(name: string): Promise<void> {
    const deadline = Date.now() + this.visibleWithinMs;
    let delay = 1;
    while ((this.registry.whereisName(name) === undefined || this.supervisor.whereisName(name) === undefined) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 20);
    }
  }
}

function exists(name: string, node: string): GatewayError {
  return new GatewayError(ErrorCode.AgentExists, `agent '${name}' already exists (on ${node}); pick another name or StopAgent it first`, { agent: name, node });
}

/** Call failures as the JSON-RPC errors a client can act on. */
function mapCallError(e: unknown, agent: string, self: string): GatewayError {
  if (e instanceof GatewayError) return e;
  if (e instanceof NoProcError) return agentNotFound(agent, self);
  if (e instanceof NodeDownError) {
    return new GatewayError(ErrorCode.NodeUnavailable, `node ${e.node} hosting agent '${agent}' is unavailable; it will be restarted on a survivor, retry shortly`, { agent, node: e.node });
  }
  if (e instanceof CallTimeoutError) return new GatewayError(ErrorCode.Timeout, `agent '${agent}' did not answer within ${e.timeoutMs} ms`, { agent, timeoutMs: e.timeoutMs });
  if (e instanceof CallExitError) {
    if (e.reason === 'noconnection') return new GatewayError(ErrorCode.NodeUnavailable, `the node hosting agent '${agent}' went down during the call; retry shortly`, { agent });
    return new GatewayError(ErrorCode.InternalError, `agent '${agent}' exited during the call: ${publicReason(e.reason)}`, { agent });
  }
  if (e instanceof TroupeError) return new GatewayError(ErrorCode.InternalError, `agent '${agent}': ${publicMessage(e)}`, { agent, code: e.code });
  return new GatewayError(ErrorCode.InternalError, `agent '${agent}': ${publicMessage(e)}`, { agent });
}

/** The store key of an agent's state: per services name and partition, so clusters sharing a store do not meet. */
export function agentPersistenceId(service: string, partition: string | undefined): (agent: string) => string {
  const scope = partition === undefined ? service : `${service}/${partition}`;
  return (agent) => `gateway-agent:${scope}:${agent}`;
}

/** Starts Registry, DistributedSupervisor and PubSub for agents on `node` (do it on every node that serves a gateway). */
export function startAgentServices(node: Node, opts: AgentServicesOptions = {}): Promise<AgentServices> {
  return AgentServices.start(node, opts);
}
