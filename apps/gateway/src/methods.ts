/**
 * The JSON-RPC methods: each declares its params (for validation and the
 * agent card) and runs against the node's `AgentServices`.
 */
import { ACTION_NAME, DEFAULT_ACTION, actionFor, actionNames } from './actions.js';
import { invalidParam } from './errors.js';
import type { AgentServices } from './services.js';

export interface ParamDoc {
  name: string;
  type: string;
  required: boolean;
  description: string;
}

export interface MethodDef {
  readonly description: string;
  readonly params: readonly ParamDoc[];
  /** The shape of the result, for the agent card. */
  readonly result: string;
  /** Changes agents or their queues: needs the bearer token wherever the gateway requires one. */
  readonly changesState: boolean;
  run(services: AgentServices, params: Record<string, unknown>): unknown;
}

/** Agent names: what is safe in logs, URLs and shells. */
export const AGENT_NAME = /^[A-Za-z0-9_.:@-]{1,128}$/;

/** SendMessage's client message ids: printable ASCII without spaces (a UUID fits), at most 128. */
export const MESSAGE_ID = /^[\x21-\x7e]{1,128}$/;

const agentParam = (what: string): ParamDoc => ({ name: what, type: 'string', required: true, description: `agent name, ${AGENT_NAME.source}` });

/** Checks that only declared params are present and required ones are; returns nothing (throws -32602). */
function checkParams(def: MethodDef, p: Record<string, unknown>): void {
  const names = def.params.map((d) => d.name);
  for (const k of Object.keys(p)) if (!names.includes(k)) throw invalidParam(k, `is not a param of this method (expected: ${names.join(', ') || 'none'})`);
  for (const d of def.params) if (d.required && p[d.name] === undefined) throw invalidParam(d.name, `is required (${d.type})`);
}

function agentName(p: Record<string, unknown>, key: string): string {
  const v = p[key];
  if (typeof v !== 'string' || !AGENT_NAME.test(v)) throw invalidParam(key, `must be an agent name: 1-128 characters of letters, digits and _ . : @ -`);
  return v;
}

export const METHODS: Readonly<Record<string, MethodDef>> = {
  StartAgent: {
    description: 'Starts an agent, placed on a cluster member by the DistributedSupervisor. A taken name is error -32002.',
    params: [agentParam('name')],
    result: '{ name, node, status: "started" }',
    changesState: true,
    run: (s, p) => s.startAgent(agentName(p, 'name')),
  },
  SendMessage: {
    description:
      'Queues a task on the agent. With messageId, a retry of the same message (same agent and id, within the retention: the last 1000 ids of the agent, 24 h) queues nothing and gets the first answer again.',
    params: [
      agentParam('agent'),
      { name: 'action', type: 'string', required: true, description: `any action name (${ACTION_NAME.source}): built-in ${actionNames().join(', ')}, one an application registered, or handled by the default handler` },
      { name: 'params', type: 'object', required: false, description: "the action's params (see actions)" },
      { name: 'messageId', type: 'string', required: false, description: `the client's id of this message, for safe retries (${MESSAGE_ID.source}); unique per agent` },
    ],
    result: '{ status: "queued", queueLength, task: { id, action, params, receivedAt, via, messageId? } }',
    changesState: true,
    run: (s, p) => {
      const agent = agentName(p, 'agent');
      const action = p['action'];
      if (typeof action !== 'string' || !ACTION_NAME.test(action)) {
        throw invalidParam('action', `must be an action name: 1-64 characters of letters, digits and _ . : -; got ${JSON.stringify(action)}`);
      }
      const params = (actionFor(s.node, action) ?? DEFAULT_ACTION).validate(p['params']);
      const mid = p['messageId'];
      if (mid !== undefined && (typeof mid !== 'string' || !MESSAGE_ID.test(mid))) {
        throw invalidParam('messageId', `must be 1-128 printable ASCII characters without spaces (a UUID, say); got ${JSON.stringify(mid)?.slice(0, 80)}`);
      }
      return s.sendMessage(agent, action, params, mid);
    },
  },
  ProcessNext: {
    description: 'The agent processes its oldest task.',
    params: [agentParam('agent')],
    result: '{ status: "processed", task, result } | { status: "empty" }',
    changesState: true,
    run: (s, p) => s.processNext(agentName(p, 'agent')),
  },
  GetAgentState: {
    description: "The agent's state.",
    params: [agentParam('agent')],
    result: '{ name, node, queue, processed, startedAt, generation, durable }',
    changesState: false,
    run: (s, p) => s.getAgentState(agentName(p, 'agent')),
  },
  ListAgents: {
    description: 'Every agent in the cluster with its node.',
    params: [],
    result: '{ agents: [{ name, node, generation }] }',
    changesState: false,
    run: (s) => ({ agents: s.listAgents() }),
  },
  GetClusterInfo: {
    description: 'This node, its connected nodes, and the members of each cluster service.',
    params: [],
    result: '{ self, connected, totalNodes, members: { registry, supervisor, pubsub }, agents: { total, local } }',
    changesState: false,
    run: (s) => s.clusterInfo(),
  },
  StopAgent: {
    description: 'Stops the agent wherever it runs (it is not restarted).',
    params: [agentParam('agent')],
    result: '{ name, node, status: "stopped" }',
    changesState: true,
    run: (s, p) => s.stopAgent(agentName(p, 'agent')),
  },
};

/** Runs `method` with validated params; throws GatewayError for invalid params and application errors. */
export function runMethod(services: AgentServices, def: MethodDef, params: Record<string, unknown>): Promise<unknown> {
  try {
    checkParams(def, params);
    return Promise.resolve(def.run(services, params));
  } catch (e) {
    return Promise.reject(e);
  }
}
