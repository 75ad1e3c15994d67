/**
 * An agent's queue as data, and the changes SendMessage and ProcessNext make
 * to it. Pure: the in-memory agent and the durable one (agent.ts,
 * durable-agent.ts) apply the same rules; the durable one stores the result
 * before it answers.
 */
import type { Node } from '@troupe/actor-core';
import { runAction } from './actions.js';

export interface Task {
  /** `<agent>#<n>`: n counts the tasks this agent (incarnation line) ever received. */
  id: string;
  action: string;
  params: Record<string, unknown>;
  receivedAt: string;
  /** The node whose gateway took the request. */
  via: string;
  /** The client's id for this message (SendMessage `messageId`), when it gave one. */
  messageId?: string;
}

/** What an agent keeps between requests (and, durable, what is stored). */
export interface AgentData {
  queue: Task[];
  /** `taskBytes` of each queued task, in queue order (bounded by `maxQueueBytes`). */
  sizes: number[];
  processed: number;
  seq: number;
}

export interface QueueLimits {
  maxQueue: number;
  maxQueueBytes: number;
}

export interface EnqueueRequest {
  op: 'enqueue';
  action: string;
  params: Record<string, unknown>;
  via: string;
  bytes: number;
  messageId?: string;
}

/**
 * A queued task as the agent answers it: without its params (the client sent
 * them; the gateway puts them back), so the replies remembered per message
 * id stay small however large the tasks are.
 */
export type TaskRef = Omit<Task, 'params'>;

export type EnqueueReply = { ok: true; task: TaskRef; queueLength: number } | { ok: false; error: 'queue_full'; limit: number; limitBytes: number; queueLength: number; queueBytes: number };
export type NextReply = { status: 'processed'; task: Task; result: unknown } | { status: 'empty' };

/** A task's size as the limits count it: its params as JSON, in bytes. */
export function taskBytes(params: Record<string, unknown>): number {
  return Buffer.byteLength(JSON.stringify(params));
}

export const emptyData = (): AgentData => ({ queue: [], sizes: [], processed: 0, seq: 0 });

export function queueBytes(d: AgentData): number {
  let n = 0;
  for (const b of d.sizes) n += b;
  return n;
}

/** Whether `x` has the shape of `AgentData` (a hand-over or a stored state from another version is checked, not trusted). */
export function isAgentData(x: unknown): x is AgentData {
  const d = x as Partial<AgentData> | null;
  return typeof d === 'object' && d !== null && Array.isArray(d.queue) && typeof d.processed === 'number' && typeof d.seq === 'number';
}

/** Fills `sizes` when a hand-over from an older node carried only the queue. */
export function normalise(d: AgentData): AgentData {
  return Array.isArray(d.sizes) && d.sizes.length === d.queue.length ? d : { ...d, sizes: d.queue.map((t) => taskBytes(t.params)) };
}

/** SendMessage: a new state and the reply, or the state unchanged and a `queue_full` reply. */
export function enqueue(d: AgentData, name: string, req: EnqueueRequest, limits: QueueLimits): { data: AgentData; reply: EnqueueReply; task?: Task } {
  const bytes = typeof req.bytes === 'number' ? req.bytes : taskBytes(req.params);
  const held = queueBytes(d);
  if (d.queue.length >= limits.maxQueue || held + bytes > limits.maxQueueBytes) {
    return { data: d, reply: { ok: false, error: 'queue_full', limit: limits.maxQueue, limitBytes: limits.maxQueueBytes, queueLength: d.queue.length, queueBytes: held } };
  }
  const seq = d.seq + 1;
  const task: Task = {
    id: `${name}#${seq}`,
    action: req.action,
    params: req.params,
    receivedAt: new Date().toISOString(),
    via: req.via,
    ...(req.messageId !== undefined ? { messageId: req.messageId } : {}),
  };
  const data: AgentData = { queue: [...d.queue, task], sizes: [...d.sizes, bytes], processed: d.processed, seq };
  const { params: _params, ...ref } = task;
  return { data, task, reply: { ok: true, task: ref, queueLength: data.queue.length } };
}

/** ProcessNext: runs the oldest task's action; `data` undefined when the queue is empty. */
export async function processNext(node: Node, d: AgentData): Promise<{ data: AgentData | undefined; reply: NextReply }> {
  const task = d.queue[0];
  if (task === undefined) return { data: undefined, reply: { status: 'empty' } };
  // Params were checked when queued (by the queuing node's handler); an action without a handler here gets the default one.
  const result = await runAction(node, task.action, task.params);
  return { data: { queue: d.queue.slice(1), sizes: d.sizes.slice(1), processed: d.processed + 1, seq: d.seq }, reply: { status: 'processed', task, result } };
}
