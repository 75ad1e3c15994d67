/**
 * An agent: a server holding a queue of tasks. It is started by the
 * DistributedSupervisor on whichever node the placement picks (and again on
 * a survivor if that node dies), and claimed in the cluster Registry under
 * its name, so `{ via: registry, name }` reaches it from any node.
 *
 * Two kinds, one set of rules (agent-queue.ts): without a store, a GenServer
 * whose queue lives in its memory (handed over on a drain, lost with its
 * node); with a store, a durable-state server (durable-agent.ts) whose queue,
 * counters and processed message ids are stored before each answer, so a
 * survivor recovers them after a crash.
 */
import { GenServer, isExitMessage, isShutdown, type ExitReason, type Node, type Pid, type ProcessContext, type StartResult } from '@troupe/actor-core';
import type { ChildBehaviour, StartInfo } from '@troupe/registry-crdt';
import { emptyData, isAgentData, normalise, processNext, QueueInPlace, type AgentData, type EnqueueReply, type NextReply } from './agent-queue.js';
import { agentEvents, publicState, type AgentArgs, type AgentCall, type AgentEvents, type AgentRuntime, type Incarnation } from './agent-runtime.js';
import { durableAgentServer } from './durable-agent.js';
import { publicReason } from './public-reason.js';
import { RecentIds, type RecentEntry } from './recent-ids.js';

export { taskBytes, type Task, type TaskRef, type EnqueueReply, type NextReply } from './agent-queue.js';
export type { AgentState, AgentCall, AgentArgs, AgentRuntime } from './agent-runtime.js';

/** What a hand-over (graceful drain) of an in-memory agent carries to the next home. */
interface Handoff extends AgentData {
  /** The message ids it remembers, with their replies. */
  ids?: RecentEntry[];
}

interface Internal extends Incarnation {
  queue: QueueInPlace;
  ids: RecentIds;
}

function memoryAgentServer(node: Node, rt: AgentRuntime, info: StartInfo): GenServer<Internal, AgentCall, never, unknown, unknown, AgentArgs> {
  let event: AgentEvents = () => undefined;
  return {
    name: 'gateway_agent',
    init: (args) => {
      event = agentEvents(node, rt, args.name);
      const ho = isAgentData(info.handoff) ? (info.handoff as Handoff) : undefined;
      const s: Internal = {
        name: args.name,
        node: node.name,
        queue: new QueueInPlace(ho !== undefined ? normalise(ho) : emptyData()),
        ids: new RecentIds(rt.messageIds, Array.isArray(ho?.ids) ? ho.ids : []),
        startedAt: new Date().toISOString(),
        generation: info.generation,
      };
      event('agent_started', { generation: info.generation, ...(info.from !== undefined ? { from: info.from } : {}), handedOver: ho !== undefined, durable: false });
      return { ok: s };
    },
    // Synchronous but for ProcessNext (an action may await): a SendMessage costs no Promise.
    handleCall: (req, _from, s) => {
      switch (req.op) {
        case 'enqueue': {
          if (req.messageId !== undefined) {
            const hit = s.ids.lookup(req.messageId);
            if (hit !== undefined) return { reply: hit.reply, state: s };
          }
          const r = s.queue.admit(s.name, req, rt);
          if (req.messageId !== undefined) s.ids.add(req.messageId, r.reply);
          if (r.task !== undefined) {
            s.queue.push(r.task, r.bytes);
            event('task_received', { task: r.task, queueLength: s.queue.length });
          }
          return { reply: r.reply satisfies EnqueueReply, state: s };
        }
        case 'next':
          return processNext(node, s.queue.data).then((reply) => {
            if (reply.status === 'processed') {
              s.queue.shift();
              event('task_completed', { task: reply.task, result: reply.result, processed: s.queue.processed });
            }
            return { reply: reply satisfies NextReply, state: s };
          });
        case 'state':
          return { reply: publicState(s, s.queue.snapshot(), false), state: s };
        case 'handoff':
          return { reply: { ...s.queue.snapshot(), ids: s.ids.entries() } satisfies Handoff, state: s };
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
      event('agent_stopped', { reason: publicReason(reason), processed: s.queue.processed, queued: s.queue.length });
    },
  };
}

/** The DistributedSupervisor behaviour that (re)starts agents on this node. */
export function agentBehaviour(node: Node, rt: AgentRuntime): ChildBehaviour<AgentArgs, Handoff> {
  const store = rt.store;
  if (store !== undefined) {
    return {
      // No hand-off hook: the next home recovers from the store (the old instance is stopped before it is adopted).
      start: (sup: ProcessContext, args: AgentArgs, info: StartInfo<Handoff>): Promise<StartResult> =>
        GenServer.startLink(sup, durableAgentServer(node, rt, store, info), args, { spawn: { trapExit: true } }),
    };
  }
  return {
    start: (sup: ProcessContext, args: AgentArgs, info: StartInfo<Handoff>): Promise<StartResult> =>
      GenServer.startLink(sup, memoryAgentServer(node, rt, info), args, { spawn: { trapExit: true } }),
    // Graceful drain: the queue, counters and remembered message ids travel to the next home.
    handoff: (pid: Pid, n: Node) => GenServer.call<Handoff>(n, pid, { op: 'handoff' } satisfies AgentCall, 5000),
  };
}
