/**
 * What both kinds of agent share (agent.ts, durable-agent.ts): the requests
 * they take, the runtime the services give them, the state GetAgentState
 * shows, and how they publish events.
 */
import type { Node } from '@troupe/actor-core';
import type { DurableStateStore } from '@troupe/persistence';
import type { AgentData, EnqueueRequest, Task } from './agent-queue.js';
import type { GatewayEvent } from './events.js';
import type { MessageIdRetention } from './recent-ids.js';

export interface AgentState {
  name: string;
  node: string;
  queue: Task[];
  processed: number;
  startedAt: string;
  /** 0 on first start; +1 each time it was restarted or handed over to another node. */
  generation: number;
  /** Its state is in a store (it survives a crash of its node), or only in memory. */
  durable: boolean;
}

export type AgentCall = EnqueueRequest | { op: 'next' } | { op: 'state' } | { op: 'handoff' };

export interface AgentArgs {
  name: string;
}

export interface AgentRuntime {
  maxQueue: number;
  maxQueueBytes: number;
  messageIds: MessageIdRetention;
  publish(e: GatewayEvent): void;
  /** Durable agents: their state is kept here (shared by every node of the cluster). */
  store?: DurableStateStore | undefined;
  /** The store key of an agent's state. */
  persistenceId(name: string): string;
}

/** Runtime facts of one incarnation, shown by GetAgentState beside the queue. */
export interface Incarnation {
  name: string;
  node: string;
  startedAt: string;
  generation: number;
}

export function publicState(i: Incarnation, d: AgentData, durable: boolean): AgentState {
  return { name: i.name, node: i.node, queue: d.queue, processed: d.processed, startedAt: i.startedAt, generation: i.generation, durable };
}

/** Publishes one of this agent's events. */
export type AgentEvents = (type: GatewayEvent['type'], data: Record<string, unknown>) => void;

export function agentEvents(node: Node, rt: AgentRuntime, name: string): AgentEvents {
  return (type, data) => rt.publish({ type, at: new Date().toISOString(), node: node.name, agent: name, data });
}
