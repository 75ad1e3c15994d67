/**
 * The agent card served at `/.well-known/agent.json`: what a client needs
 * to talk to this gateway without reading its source.
 */
import { ACTIONS, DEFAULT_ACTION, type ActionParamDoc } from './actions.js';
import { ErrorCode } from './errors.js';
import { EVENT_TYPES } from './events.js';
import { METHODS, type ParamDoc } from './methods.js';
import { GATEWAY_VERSION } from './version.js';

export interface AgentCard {
  name: string;
  description: string;
  /** The JSON-RPC endpoint. */
  url: string;
  version: string;
  protocol: 'jsonrpc-2.0';
  node: string;
  capabilities: { streaming: boolean; batch: boolean };
  /** `bearer.required`: methods with `changesState` need `Authorization: Bearer <token>`. */
  auth: { bearer: { required: boolean } };
  endpoints: { rpc: string; events: string; health: string };
  methods: { name: string; description: string; params: ParamDoc[]; result: string; changesState: boolean }[];
  actions: { name: string; description: string; params: ActionParamDoc[] }[];
  events: string[];
  errors: { code: number; name: string }[];
}

export function agentCard(baseUrl: string, node: string, tokenRequired = false): AgentCard {
  return {
    name: `troupe-gateway ${node}`,
    description:
      'Agents over HTTP on a Troupe cluster: each agent is a GenServer placed on a node by the DistributedSupervisor and named in the cluster Registry, so every node\'s endpoint reaches every agent.',
    url: `${baseUrl}/a2a`,
    version: GATEWAY_VERSION,
    protocol: 'jsonrpc-2.0',
    node,
    capabilities: { streaming: true, batch: false },
    auth: { bearer: { required: tokenRequired } },
    endpoints: { rpc: `${baseUrl}/a2a`, events: `${baseUrl}/events`, health: `${baseUrl}/health` },
    methods: Object.entries(METHODS).map(([name, m]) => ({ name, description: m.description, params: [...m.params], result: m.result, changesState: m.changesState })),
    // '*': any other name is queued too (an application's handler, else the default one).
    actions: [...Object.entries(ACTIONS), ['*', DEFAULT_ACTION] as const].map(([name, a]) => ({ name, description: a.description, params: [...a.params] })),
    events: [...EVENT_TYPES],
    errors: Object.entries(ErrorCode).map(([name, code]) => ({ code, name })),
  };
}
