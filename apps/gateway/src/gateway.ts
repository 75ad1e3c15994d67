/**
 * The HTTP side: `startGateway` serves one node's agent services.
 *
 *   GET  /health                  { status, node, nodes }
 *   GET  /.well-known/agent.json  the agent card
 *   POST /a2a                     JSON-RPC 2.0 (one request per HTTP request)
 *   GET  /events                  server-sent events (?types=a,b)
 *
 * Every request but the event stream is answered within `requestTimeoutMs`
 * (504 with a JSON-RPC -32004 error if the method is still running; 408 if
 * the body did not arrive), and bodies over `bodyLimit` get 413.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Node } from '@troupe/actor-core';
import { agentCard } from './agent-card.js';
import { ErrorCode, GatewayError } from './errors.js';
import { EVENT_TYPES } from './events.js';
import { parseRequest, rpcError, rpcResult, type JsonRpcId, type JsonRpcResponse } from './jsonrpc.js';
import { METHODS, runMethod } from './methods.js';
import type { AgentServices } from './services.js';
import { parseTypes, serveEvents } from './sse.js';

export interface GatewayOptions {
  /** The node's agent services (`startAgentServices`). */
  services: AgentServices;
  /** Optional: must be `services.node` (accepted so callers can be explicit). */
  node?: Node;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (an ephemeral port; read it from `url`). */
  port?: number;
  /** Largest request body in bytes (413 beyond). Default 65536. */
  bodyLimit?: number;
  /** Longest a request may take, body included (then 408 / 504). Default 10000. */
  requestTimeoutMs?: number;
  /** Interval of SSE keep-alive comments. Default 15000. */
  sseHeartbeatMs?: number;
  /** Open event streams at most (503 beyond). Default 100. */
  maxEventStreams?: number;
  /** Serves `GET /metrics` (Prometheus text) with this when given. */
  metrics?: () => string;
}

export interface Gateway {
  /** `http://host:port`, no trailing slash. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Stops listening, ends event streams and open connections. */
  close(): Promise<void>;
}

const JSON_TYPE = 'application/json; charset=utf-8';

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const services = opts.services;
  const node = services.node;
  if (opts.node !== undefined && opts.node !== node) throw new TypeError('startGateway: node must be the node the services run on');
  const host = opts.host ?? '127.0.0.1';
  const bodyLimit = opts.bodyLimit ?? 64 * 1024;
  const requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
  const heartbeatMs = opts.sseHeartbeatMs ?? 15_000;
  const maxStreams = opts.maxEventStreams ?? 100;
  for (const [k, v] of [['bodyLimit', bodyLimit], ['requestTimeoutMs', requestTimeoutMs], ['sseHeartbeatMs', heartbeatMs], ['maxEventStreams', maxStreams]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new TypeError(`startGateway: ${k} must be an integer >= 1, got ${String(v)}`);
  }
  let baseUrl = '';
  let streams = 0;
  const sockets = new Set<Socket>();
  const sse = new Set<ServerResponse>();

  const server: Server = createServer((req, res) => {
    try {
      route(req, res);
    } catch (e) {
      node.logger.error('gateway: request failed', { url: req.url, error: String(e) });
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  // Node's own guards against slow clients, in step with ours.
  server.requestTimeout = requestTimeoutMs + 1000;
  server.headersTimeout = Math.min(60_000, requestTimeoutMs + 1000);

  function route(req: IncomingMessage, res: ServerResponse): void {
    const u = new URL(req.url ?? '/', 'http://gateway');
    const path = u.pathname;
    const allow = (m: string): boolean => {
      if (req.method === m || (m === 'GET' && req.method === 'HEAD')) return true;
      res.setHeader('allow', m === 'GET' ? 'GET, HEAD' : m);
      sendJson(res, 405, { error: `method ${req.method ?? '?'} not allowed on ${path}; use ${m}` });
      req.resume();
      return false;
    };
    switch (path) {
      case '/health': {
        if (!allow('GET')) return;
        const ok = services.running;
        sendJson(res, ok ? 200 : 503, { status: ok ? 'ok' : 'stopping', node: node.name, nodes: [node.name, ...node.dist.nodes()].sort() });
        return;
      }
      case '/.well-known/agent.json':
        if (!allow('GET')) return;
        sendJson(res, 200, agentCard(baseUrl, node.name));
        return;
      case '/events': {
        if (!allow('GET')) return;
        if (req.method === 'HEAD') {
          res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' }).end();
          return;
        }
        const types = parseTypes(u.searchParams.get('types'));
        if (types !== undefined && !(types instanceof Set)) {
          sendJson(res, 400, { error: `unknown event type '${types.unknown}' in ?types= (known: ${EVENT_TYPES.join(', ')})` });
          return;
        }
        if (streams >= maxStreams) {
          sendJson(res, 503, { error: `too many event streams (${maxStreams}); try again later` });
          return;
        }
        streams++;
        sse.add(res);
        serveEvents(req, res, types, {
          hub: services.events,
          node: node.name,
          heartbeatMs,
          onEnd: () => {
            streams--;
            sse.delete(res);
          },
        });
        return;
      }
      case '/a2a':
        if (!allow('POST')) return;
        handleRpc(req, res).catch((e: unknown) => {
          node.logger.error('gateway: request failed', { url: req.url, error: String(e) });
          if (!res.headersSent) sendJson(res, 500, rpcError(null, ErrorCode.InternalError, 'internal error'));
        });
        return;
      case '/metrics': {
        const metrics = opts.metrics;
        if (metrics === undefined) {
          sendJson(res, 404, { error: 'this node serves no metrics' });
          req.resume();
          return;
        }
        if (!allow('GET')) return;
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : metrics());
        return;
      }
      default:
        sendJson(res, 404, { error: `no route ${path}; try POST /a2a, GET /health, GET /.well-known/agent.json, GET /events` });
        req.resume();
    }
  }

  async function handleRpc(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let id: JsonRpcId = null;
    let phase: 'body' | 'run' = 'body';
    let done = false;
    const finish = (status: number, body: JsonRpcResponse | null, close = false): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (close) res.setHeader('connection', 'close');
      if (body === null) {
        res.writeHead(status).end();
      } else {
        sendJson(res, status, body);
      }
    };
    const timer = setTimeout(() => {
      if (phase === 'body') {
        finish(408, rpcError(null, ErrorCode.Timeout, `request timeout: the body did not arrive within ${requestTimeoutMs} ms`), true);
      } else {
        node.logger.warn('gateway: request timed out', { id, timeoutMs: requestTimeoutMs });
        finish(504, rpcError(id, ErrorCode.Timeout, `request timeout: no answer within ${requestTimeoutMs} ms (the operation may still complete)`, { timeoutMs: requestTimeoutMs }));
      }
    }, requestTimeoutMs);

    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > bodyLimit) {
      finish(413, tooLarge(bodyLimit), true);
      return;
    }
    const body = await readBody(req, bodyLimit);
    if (done) return;
    if (body === 'too_large') return finish(413, tooLarge(bodyLimit), true);
    if (body === 'aborted') {
      done = true;
      clearTimeout(timer);
      return;
    }
    phase = 'run';
    const parsed = parseRequest(body);
    if (!parsed.ok) return finish(200, parsed.response);
    const r = parsed.req;
    id = r.id ?? null;
    const notification = r.id === undefined;
    const def = Object.prototype.hasOwnProperty.call(METHODS, r.method) ? METHODS[r.method] : undefined;
    if (def === undefined) {
      return finish(notification ? 204 : 200, notification ? null : rpcError(id, ErrorCode.MethodNotFound, `method not found: '${r.method}' (methods: ${Object.keys(METHODS).join(', ')})`));
    }
    let response: JsonRpcResponse;
    try {
      response = rpcResult(id, await runMethod(services, def, r.params));
    } catch (e) {
      if (e instanceof GatewayError) {
        response = rpcError(id, e.code, e.message, e.data);
      } else {
        node.logger.warn('gateway: method failed', { method: r.method, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
        response = rpcError(id, ErrorCode.InternalError, `internal error: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    // A notification is run but never answered (JSON-RPC 2.0 §4.1).
    finish(notification ? 204 : 200, notification ? null : response);
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      reject(new Error(e.code === 'EADDRINUSE' ? `gateway: port ${opts.port ?? 0} on ${host} is in use` : `gateway: cannot listen on ${host}:${opts.port ?? 0}: ${e.message}`));
    };
    server.once('error', onError);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (e) => node.logger.error('gateway: server error', { error: String(e) }));
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  node.logger.info('gateway listening', { url: baseUrl, node: node.name });

  let closing: Promise<void> | undefined;
  return {
    url: baseUrl,
    host,
    port,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const res of sse) res.end();
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}

function tooLarge(limit: number): JsonRpcResponse {
  return rpcError(null, ErrorCode.InvalidRequest, `request body too large: the limit is ${limit} bytes`, { limit });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The body as text, or why not; stops reading past `limit`. */
function readBody(req: IncomingMessage, limit: number): Promise<string | 'too_large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (v: string | 'too_large' | 'aborted'): void => {
      if (settled) return;
      settled = true;
      resolve(v);
    };
    req.on('data', (c: Buffer) => {
      if (settled) return;
      size += c.length;
      if (size > limit) {
        // Stop buffering; the 413 goes out with `connection: close`.
        req.pause();
        settle('too_large');
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => settle(Buffer.concat(chunks).toString('utf8')));
    req.on('aborted', () => settle('aborted'));
    req.on('close', () => settle('aborted'));
    req.on('error', () => settle('aborted'));
  });
}
