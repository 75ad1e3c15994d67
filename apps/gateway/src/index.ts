// @troupe/gateway: agents over HTTP (JSON-RPC 2.0, SSE) on every node of a Troupe cluster.
export { startAgentServices, AgentServices, type AgentServicesOptions, type AgentStarted, type AgentQueued, type AgentListEntry, type ClusterInfo, type MemberView } from './services.js';
export { startGateway, type Gateway, type GatewayOptions, type GatewayHealth } from './gateway.js';
export { resolveGatewayToken, defaultTokenFile, MIN_TOKEN_LENGTH, type TokenSource, type ResolvedToken } from './token.js';
export { MAX_PARAM_DEPTH } from './param-depth.js';
export { ErrorCode, GatewayError, type ErrorCodeValue } from './errors.js';
export { EVENT_TYPES, EventHub, eventGroups, INTEREST_TIMEOUT_MS, type GatewayEvent, type GatewayEventType, type EventListener } from './events.js';
export { ACTIONS, ACTION_NAME, DEFAULT_ACTION, MAX_DELAY_MS, registerAction, unregisterAction, type ActionDef, type ActionParamDoc } from './actions.js';
export { METHODS, AGENT_NAME, MESSAGE_ID, type MethodDef, type ParamDoc } from './methods.js';
export { agentCard, type AgentCard } from './agent-card.js';
export { parseRequest, rpcError, rpcResult, type JsonRpcId, type JsonRpcRequest, type JsonRpcResponse, type JsonRpcErrorObject } from './jsonrpc.js';
export type { AgentState, Task, TaskRef, NextReply } from './agent.js';
export { agentPersistenceId } from './services.js';
export type { MessageIdRetention } from './recent-ids.js';
export { GATEWAY_VERSION } from './version.js';
