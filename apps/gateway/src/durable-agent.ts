/**
 * The durable agent: the same queue rules as the in-memory one, as a
 * durable-state server (@troupe/persistence). Its `AgentData` is stored
 * under `persistenceId(name)` before each SendMessage / ProcessNext answer,
 * with the message ids it processed and their replies in the same write, so
 * whichever node starts it next (a survivor after a SIGKILL, the adopter
 * after a drain) recovers the queue, the counters and the ids.
 *
 * A write that fails (the store is down, or another instance of the agent
 * wrote first during a netsplit) stops the agent with
 * `{ persist_failed: { id, code, message } }` and the request that caused it
 * fails; the supervisor restarts the agent, which recovers what was stored.
 * ProcessNext runs the action before its write, so a crash in between runs
 * that task again on the next home: processing is at least once, queuing
 * with a message id exactly once.
 */
import { GenServer, isExitMessage, isShutdown, type Node } from '@troupe/actor-core';
import { durableState, type DurableStateBehaviour, type DurableStateStore } from '@troupe/persistence';
import type { StartInfo } from '@troupe/registry-crdt';
import { admit, emptyData, isAgentData, normalise, processNext, withoutFirst, withTask, type AgentData } from './agent-queue.js';
import { agentEvents, publicState, type AgentArgs, type AgentCall, type AgentEvents, type AgentRuntime, type Incarnation } from './agent-runtime.js';
import { publicReason } from './public-reason.js';

/** Version of the stored `AgentData` shape. */
const STATE_VERSION = 1;

export function durableAgentServer(node: Node, rt: AgentRuntime, store: DurableStateStore, info: StartInfo): GenServer<unknown, AgentCall, never, unknown, unknown, AgentArgs> {
  let inc: Incarnation | undefined;
  let event: AgentEvents = () => undefined;
  const behaviour: DurableStateBehaviour<AgentData, AgentCall, unknown, never, unknown, AgentArgs> = {
    name: 'gateway_agent',
    persistenceId: (args) => rt.persistenceId(args.name),
    initialState: (args) => {
      inc = { name: args.name, node: node.name, startedAt: new Date().toISOString(), generation: info.generation };
      event = agentEvents(node, rt, args.name);
      return emptyData();
    },
    stateVersion: STATE_VERSION,
    // A state another version stored: kept if it has the shape, else the agent starts empty (logged).
    upgradeState: (s, version) => {
      if (isAgentData(s)) return normalise(s);
      node.logger.warn('gateway agent: stored state of an unknown shape ignored', { agent: inc?.name, version });
      return emptyData();
    },
    messageId: (cmd) => (cmd.op === 'enqueue' ? cmd.messageId : undefined),
    onRecovered: (s) => {
      const restored = s.seq > 0 || s.processed > 0;
      event('agent_started', { generation: info.generation, ...(info.from !== undefined ? { from: info.from } : {}), handedOver: false, durable: true, restored, queued: s.queue.length });
    },
    handleCommand: async (cmd, s) => {
      const me = inc!;
      switch (cmd.op) {
        case 'enqueue': {
          const r = admit(s, me.name, cmd, rt);
          if (r.task === undefined) return { reply: r.reply };
          const next = withTask(s, r.task, r.bytes);
          // Published when decided: a write that then fails stops the agent (agent_stopped names why).
          event('task_received', { task: r.task, queueLength: next.queue.length });
          return { state: next, reply: r.reply };
        }
        case 'next': {
          const reply = await processNext(node, s);
          if (reply.status === 'empty') return { reply };
          const next = withoutFirst(s);
          event('task_completed', { task: reply.task, result: reply.result, processed: next.processed });
          return { state: next, reply };
        }
        case 'state':
          return { reply: publicState(me, s, true) };
        case 'handoff':
          // Not a hand-over hook here (the store carries the state); answered for a caller that asks anyway.
          return { reply: s };
      }
    },
    // Exits are trapped so `terminate` runs (agent_stopped); any shutdown exit stops the agent (see agent.ts).
    handleInfo: (msg) => {
      if (isExitMessage(msg)) {
        if (isShutdown(msg.reason)) return { stop: msg.reason };
      } else {
        node.logger.debug('gateway agent: unexpected message', { agent: inc?.name });
      }
      return {};
    },
    terminate: (reason, s) => {
      event('agent_stopped', { reason: publicReason(reason), processed: s.processed, queued: s.queue.length });
    },
  };
  return durableState(behaviour, { states: store, processedIds: rt.messageIds }) as unknown as GenServer<unknown, AgentCall, never, unknown, unknown, AgentArgs>;
}
