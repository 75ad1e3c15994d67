/**
 * An agent: a GenServer holding a queue of tasks. It is started by the
 * DistributedSupervisor on whichever node the placement picks (and again on
 * a survivor if that node dies), and claimed in the cluster Registry under
 * its name, so `{ via: registry, name }` reaches it from any node.
 */
import { GenServer, isExitMessage, isShutdown, type ExitReason, type Node, type Pid, type ProcessContext, type StartResult } from '@troupe/actor-core';
import type { ChildBehaviour, StartInfo } from '@troupe/registry-crdt';
import { runAction } from './actions.js';
import type { GatewayEvent } from './events.js';
import { publicReason } from './public-reason.js';

export interface Task {
  /** `<agent>#<n>`: n counts the tasks this agent (incarnation line) ever received. */
  id: string;
  action: string;
  params: Record<string, unknown>;
  receivedAt: string;
  /** The node whose gateway took the request. */
  via: string;
}

export interface AgentState {
  name: string;
  node: string;
  queue: Task[];
  processed: number;
  startedAt: string;
  /** 0 on first start; +1 each time it was restarted or handed over to another node. */
  generation: number;
}

/** What a hand-over (graceful drain) carries to the next home. */
interface Handoff {
  queue: Task[];
  processed: number;
  seq: number;
}

interface Internal extends AgentState {
  seq: number;
  /** `taskBytes` of each queued task, in queue order, and their sum (bounded by `maxQueueBytes`). */
  sizes: number[];
  queueBytes: number;
}

/** A task's size as the limits count it: its params as JSON, in bytes. */
export function taskBytes(params: Record<string, unknown>): number {
  return Buffer.byteLength(JSON.stringify(params));
}

export type AgentCall =
  | { op: 'enqueue'; action: string; params: Record<string, unknown>; via: string; bytes: number }
  | { op: 'next' }
  | { op: 'state' }
  | { op: 'handoff' };

export type EnqueueReply = { ok: true; task: Task; queueLength: number } | { ok: false; error: 'queue_full'; limit: number; limitBytes: number; queueLength: number; queueBytes: number };
export type NextReply = { status: 'processed'; task: Task; result: unknown } | { status: 'empty' };

export interface AgentArgs {
  name: string;
}

export interface AgentRuntime {
  maxQueue: number;
  maxQueueBytes: number;
  publish(e: GatewayEvent): void;
}

function isHandoff(x: unknown): x is Handoff {
  const h = x as Handoff | null;
  return typeof h === 'object' && h !== null && Array.isArray(h.queue) && typeof h.processed === 'number' && typeof h.seq === 'number';
}

function agentServer(node: Node, rt: AgentRuntime, info: StartInfo): GenServer<Internal, AgentCall, never, unknown, unknown, AgentArgs> {
  const event = (s: Internal, type: GatewayEvent['type'], data: Record<string, unknown>): void =>
    rt.publish({ type, at: new Date().toISOString(), node: node.name, agent: s.name, data });
  return {
    name: 'gateway_agent',
    init: (args) => {
      const ho = isHandoff(info.handoff) ? info.handoff : undefined;
      const s: Internal = {
        name: args.name,
        node: node.name,
        queue: ho?.queue ?? [],
        processed: ho?.processed ?? 0,
        seq: ho?.seq ?? 0,
        sizes: (ho?.queue ?? []).map((t) => taskBytes(t.params)),
        queueBytes: 0,
        startedAt: new Date().toISOString(),
        generation: info.generation,
      };
      s.queueBytes = s.sizes.reduce((a, b) => a + b, 0);
      event(s, 'agent_started', { generation: info.generation, ...(info.from !== undefined ? { from: info.from } : {}), handedOver: ho !== undefined });
      return { ok: s };
    },
    handleCall: async (req, _from, s) => {
      switch (req.op) {
        case 'enqueue': {
          const bytes = typeof req.bytes === 'number' ? req.bytes : taskBytes(req.params);
          if (s.queue.length >= rt.maxQueue || s.queueBytes + bytes > rt.maxQueueBytes) {
            const full: EnqueueReply = { ok: false, error: 'queue_full', limit: rt.maxQueue, limitBytes: rt.maxQueueBytes, queueLength: s.queue.length, queueBytes: s.queueBytes };
            return { reply: full, state: s };
          }
          const task: Task = { id: `${s.name}#${++s.seq}`, action: req.action, params: req.params, receivedAt: new Date().toISOString(), via: req.via };
          s.queue.push(task);
          s.sizes.push(bytes);
          s.queueBytes += bytes;
          event(s, 'task_received', { task, queueLength: s.queue.length });
          return { reply: { ok: true, task, queueLength: s.queue.length } satisfies EnqueueReply, state: s };
        }
        case 'next': {
          const task = s.queue.shift();
          if (task === undefined) return { reply: { status: 'empty' } satisfies NextReply, state: s };
          s.queueBytes -= s.sizes.shift() ?? 0;
          // Params were checked when queued (by the queuing node's handler); an action without a handler here gets the default one.
          const result = await runAction(node, task.action, task.params);
          s.processed++;
          event(s, 'task_completed', { task, result, processed: s.processed });
          return { reply: { status: 'processed', task, result } satisfies NextReply, state: s };
        }
        case 'state':
          return { reply: publicState(s), state: s };
        case 'handoff':
          return { reply: { queue: s.queue, processed: s.processed, seq: s.seq } satisfies Handoff, state: s };
      }
    },
    // Exits are trapped so `terminate` runs (agent_stopped) when the supervisor stops the agent. The
    // DistributedSupervisor sends that `shutdown` from outside its process, not as the parent, so
    // GenServer's parent rule does not apply: any shutdown exit stops the agent; other EXITs are ignored.
    handleInfo: (msg, s) => {
      if (isExitMessage(msg)) {
        if (isShutdown(msg.reason)) return { stop: msg.reason, state: s };
      } else {
        node.logger.debug('gateway agent: unexpected message', { agent: s.name });
      }
      return { noreply: s };
    },
    terminate: (reason: ExitReason, s) => {
      event(s, 'agent_stopped', { reason: publicReason(reason), processed: s.processed, queued: s.queue.length });
    },
  };
}

function publicState(s: Internal): AgentState {
  return { name: s.name, node: s.node, queue: s.queue, processed: s.processed, startedAt: s.startedAt, generation: s.generation };
}

/** The DistributedSupervisor behaviour that (re)starts agents on this node. */
export function agentBehaviour(node: Node, rt: AgentRuntime): ChildBehaviour<AgentArgs, Handoff> {
  return {
    start: (sup: ProcessContext, args: AgentArgs, info: StartInfo<Handoff>): Promise<StartResult> =>
      GenServer.startLink(sup, agentServer(node, rt, info), args, { spawn: { trapExit: true } }),
    // Graceful drain: the queue and counters travel to the next home.
    handoff: (pid: Pid, n: Node) => GenServer.call<Handoff>(n, pid, { op: 'handoff' } satisfies AgentCall, 5000),
  };
}
