/**
 * JSON-RPC 2.0 envelopes: parsing a request body and building responses,
 * exactly per the specification (https://www.jsonrpc.org/specification).
 * Batches (a JSON array) are refused with -32600: one request per HTTP
 * request keeps timeouts and the size limit per call.
 */
import { ErrorCode } from './errors.js';

export type JsonRpcId = string | number | null;

export interface JsonRpcRequest {
  jsonrpc: '2.0';
  method: string;
  /** By-name params; absent params are `{}`. */
  params: Record<string, unknown>;
  /** Absent: a notification (run, never answered). */
  id?: JsonRpcId;
}

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

export type JsonRpcResponse =
  | { jsonrpc: '2.0'; id: JsonRpcId; result: unknown }
  | { jsonrpc: '2.0'; id: JsonRpcId; error: JsonRpcErrorObject };

export function rpcResult(id: JsonRpcId, result: unknown): JsonRpcResponse {
  return { jsonrpc: '2.0', id, result };
}

export function rpcError(id: JsonRpcId, code: number, message: string, data?: unknown): JsonRpcResponse {
  return { jsonrpc: '2.0', id, error: data === undefined ? { code, message } : { code, message, data } };
}

const isId = (x: unknown): x is JsonRpcId => x === null || typeof x === 'string' || (typeof x === 'number' && Number.isFinite(x));

/** A request, or the error response to send instead (id null when the id itself could not be read). */
export function parseRequest(body: string): { ok: true; req: JsonRpcRequest } | { ok: false; response: JsonRpcResponse } {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch (e) {
    return { ok: false, response: rpcError(null, ErrorCode.ParseError, `parse error: the body is not valid JSON (${e instanceof Error ? e.message : String(e)})`) };
  }
  if (Array.isArray(v)) {
    return { ok: false, response: rpcError(null, ErrorCode.InvalidRequest, 'invalid request: batch requests are not supported; send one request object per HTTP request') };
  }
  if (typeof v !== 'object' || v === null) return { ok: false, response: rpcError(null, ErrorCode.InvalidRequest, 'invalid request: expected a JSON-RPC 2.0 request object') };
  const o = v as Record<string, unknown>;
  const hasId = Object.prototype.hasOwnProperty.call(o, 'id');
  if (hasId && !isId(o['id'])) return { ok: false, response: rpcError(null, ErrorCode.InvalidRequest, 'invalid request: id must be a string, a number or null') };
  const id = hasId ? (o['id'] as JsonRpcId) : null;
  if (o['jsonrpc'] !== '2.0') return { ok: false, response: rpcError(id, ErrorCode.InvalidRequest, `invalid request: "jsonrpc" must be exactly "2.0"`) };
  if (typeof o['method'] !== 'string') return { ok: false, response: rpcError(id, ErrorCode.InvalidRequest, 'invalid request: "method" must be a string') };
  const p = o['params'];
  if (p !== undefined && (typeof p !== 'object' || p === null)) {
    return { ok: false, response: rpcError(id, ErrorCode.InvalidRequest, 'invalid request: "params" must be an object or an array when present') };
  }
  if (Array.isArray(p)) {
    return { ok: false, response: rpcError(id, ErrorCode.InvalidParams, "invalid params: 'params' must be given by name (an object), not by position", { param: 'params' }) };
  }
  const req: JsonRpcRequest = { jsonrpc: '2.0', method: o['method'], params: (p as Record<string, unknown> | undefined) ?? {} };
  if (hasId) req.id = id;
  return { ok: true, req };
}
