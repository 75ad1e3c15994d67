import { inspect } from 'node:util';
/**
 * JSON-RPC 2.0 error codes: the reserved ones, and the gateway's
 * application errors (-32001..-32099 is the range JSON-RPC leaves to servers).
 */
export const ErrorCode = {
  /** The body is not JSON. */
  ParseError: -32700,
  /** Not a JSON-RPC 2.0 request object (also: batches, which the gateway does not take). */
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  /** `error.data.param` names the offending param. */
  InvalidParams: -32602,
  InternalError: -32603,
  /** No agent with that name in the cluster (as this node sees it). */
  AgentNotFound: -32001,
  /** StartAgent with a name that is taken. */
  AgentExists: -32002,
  /** The node hosting the agent went down during the request, or no node can host agents. */
  NodeUnavailable: -32003,
  /** The agent, or the whole request, did not answer in time. */
  Timeout: -32004,
  /** The agent's queue is at its limit (`maxQueue` tasks or `maxQueueBytes`). */
  QueueFull: -32005,
  /** StartAgent when the cluster already runs `maxAgents` agents. */
  TooManyAgents: -32006,
  /** A state-changing method without the gateway's bearer token, or with a wrong one (HTTP 401). */
  Unauthorized: -32007,
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** An error a JSON-RPC method reports as `{ code, message, data }`. */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  constructor(
    readonly code: ErrorCodeValue,
    message: string,
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
  }

  [inspect.custom](): string {
    return `${this.stack ?? `${this.name}: ${this.message}`}\n  { code: ${this.code}${this.data === undefined ? '' : `, data: ${JSON.stringify(this.data)}`} }`;
  }
}

/** `-32602` naming the param: `invalidParam('name', 'must be a non-empty string')`. */
export function invalidParam(param: string, problem: string): GatewayError {
  return new GatewayError(ErrorCode.InvalidParams, `invalid params: '${param}' ${problem}`, { param });
}

export function agentNotFound(agent: string, node: string): GatewayError {
  return new GatewayError(ErrorCode.AgentNotFound, `agent '${agent}' not found (as seen from ${node}); start it with StartAgent or check ListAgents`, { agent });
}
