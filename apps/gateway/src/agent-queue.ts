/**
 * An agent's queue as data, and the changes SendMessage and ProcessNext make
 * to it. The in-memory agent and the durable one (agent.ts,
 * durable-agent.ts) take the same decisions (`admit`, `processNext`) and
 * apply them differently: the in-memory agent changes its queue in place
 * (`QueueInPlace`), the durable one builds the next
 * state (`withTask`, `withoutFirst`) and stores it before it answers, so a
 * write that fails leaves the state it had.
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

/**
 * SendMessage's decision: the task to queue (`bytes` its size) and the
 * reply, or no task and a `queue_full` reply. `held`: `queueBytes(d)`, which
 * a caller that keeps a running total passes in.
 */
export function admit(d: AgentData, name: string, req: EnqueueRequest, limits: QueueLimits, held = queueBytes(d)): { reply: EnqueueReply; task?: Task; bytes: number } {
  const bytes = typeof req.bytes === 'number' ? req.bytes : taskBytes(req.params);
  if (d.queue.length >= limits.maxQueue || held + bytes > limits.maxQueueBytes) {
    return { bytes, reply: { ok: false, error: 'queue_full', limit: limits.maxQueue, limitBytes: limits.maxQueueBytes, queueLength: d.queue.length, queueBytes: held } };
  }
  const task: Task = {
    id: `${name}#${d.seq + 1}`,
    action: req.action,
    params: req.params,
    receivedAt: new Date().toISOString(),
    via: req.via,
    ...(req.messageId !== undefined ? { messageId: req.messageId } : {}),
  };
  const { params: _params, ...ref } = task;
  return { bytes, task, reply: { ok: true, task: ref, queueLength: d.queue.length + 1 } };
}

/** `d` with an admitted task queued, as a new value (`d` unchanged). */
export function withTask(d: AgentData, task: Task, bytes: number): AgentData {
  return { queue: [...d.queue, task], sizes: [...d.sizes, bytes], processed: d.processed, seq: d.seq + 1 };
}

/** ProcessNext: runs the oldest task's action (the caller then removes it); `empty` when there is none. */
export async function processNext(node: Node, d: AgentData): Promise<NextReply> {
  const task = d.queue[0];
  if (task === undefined) return { status: 'empty' };
  // Params were checked when queued (by the queuing node's handler); an action without a handler here gets the default one.
  const result = await runAction(node, task.action, task.params);
  return { status: 'processed', task, result };
}

/** `d` without its processed oldest task, as a new value (`d` unchanged). */
export function withoutFirst(d: AgentData): AgentData {
  return { queue: d.queue.slice(1), sizes: d.sizes.slice(1), processed: d.processed + 1, seq: d.seq };
}

/**
 * The in-memory agent's queue, changed in place: O(1) per request, where a
 * copy per request made a long queue cost O(length) each time. Its byte
 * total is kept with it, so admitting a task does not sum the sizes.
 */
export class QueueInPlace {
  /** `queueBytes(data)`. */
  private held: number;

  constructor(readonly data: AgentData) {
    this.held = queueBytes(data);
  }

  admit(name: string, req: EnqueueRequest, limits: QueueLimits): ReturnType<typeof admit> {
    return admit(this.data, name, req, limits, this.held);
  }

  /** Queues an admitted task. */
  push(task: Task, bytes: number): void {
    this.data.queue.push(task);
    this.data.sizes.push(bytes);
    this.data.seq += 1;
    this.held += bytes;
  }

  /** Removes the processed oldest task. */
  shift(): void {
    this.data.queue.shift();
    this.held -= this.data.sizes.shift() ?? 0;
    this.data.processed += 1;
  }

  get length(): number {
    return this.data.queue.length;
  }

  get processed(): number {
    return this.data.processed;
  }

  /** A copy, for what is answered: it must not change with the queue. */
  snapshot(): AgentData {
    return { ...this.data, queue: [...this.data.queue], sizes: [...this.data.sizes] };
  }
}
