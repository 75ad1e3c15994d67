/**
 * The HTTP side: `startGateway` serves one node's agent services.
 *
 *   GET  /health                  { status, reasons, node, nodes }
 *   GET  /.well-known/agent.json  the agent card
 *   POST /a2a                     JSON-RPC 2.0 (one request per HTTP request)
 *   GET  /events                  server-sent events (?types=a,b)
 *
 * Every request but the event stream is answered within `requestTimeoutMs`
 * (504 with a JSON-RPC -32004 error if the method is still running; 408 if
 * the body did not arrive), and bodies over `bodyLimit` get 413.
 *
 * Who may call (SECURITY.md): a request naming a host we do not serve or
 * coming from another site's page is 403 (`browser-guard.ts`); `POST /a2a`
 * takes only `application/json` (415); state-changing methods need the
 * bearer token whenever one is in force — always beyond loopback
 * (`token.ts`) — else 401. Params nesting deeper than `MAX_PARAM_DEPTH` are
 * -32602 before anything runs.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Node } from '@troupe/actor-core';
import { agentCard } from './agent-card.js';
import { browserGuard, isJsonContentType } from './browser-guard.js';
import { ErrorCode, GatewayError } from './errors.js';
import { EVENT_TYPES } from './events.js';
import { parseRequest, rpcError, rpcResult, type JsonRpcId, type JsonRpcResponse } from './jsonrpc.js';
import { METHODS, runMethod } from './methods.js';
import { checkParamDepth } from './param-depth.js';
import { publicMessage } from './public-reason.js';
import type { AgentServices } from './services.js';
import { RequestDeadlines } from './request-deadlines.js';
import { parseTypes, serveEvents } from './sse.js';
import { bearerMatches, resolveGatewayToken } from './token.js';

/** What `GatewayOptions.health` reports (a `WsTransport.health()` is one). */
export interface GatewayHealth {
  status: 'healthy' | 'degraded' | 'unreachable';
  reasons: string[];
}

export interface GatewayOptions {
  /** The node's agent services (`startAgentServices`). */
  services: AgentServices;
  /** Optional: must be `services.node` (accepted so callers can be explicit). */
  node?: Node;
  /**
   * The node's cluster health for `GET /health` (e.g. `() => transport.health()`):
   * `degraded` is reported with its reasons, `unreachable` also as 503. Absent: healthy.
   */
  health?: () => GatewayHealth;
  /** Default 127.0.0.1. Beyond loopback (`0.0.0.0`, an interface's address) a bearer token is required. */
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
  /** Open event streams per client address at most (503 beyond), so one client cannot take them all. Default 10. */
  maxEventStreamsPerAddress?: number;
  /** Bytes buffered for one event stream past which its client is cut off. Default 262144. */
  sseMaxBufferedBytes?: number;
  /** How long an event stream may push back (its client not reading) before it is cut off, ms. Default 10000. */
  sseStallMs?: number;
  /**
   * The bearer token for state-changing methods (at least 32 characters). Default:
   * `TROUPE_GATEWAY_TOKEN`, else the token file; none on loopback unless configured.
   */
  token?: string;
  /** The token file (created with a random token if absent, mode 0600). Default `TROUPE_GATEWAY_TOKEN_FILE`, else `~/.troupe.gateway-token` beyond loopback. */
  tokenFile?: string;
  /**
   * Names a `Host` header may carry besides IP addresses, `localhost`, this machine's hostname and
   * `host` (e.g. a DNS name in front of the gateway; `*`: any). Default `TROUPE_GATEWAY_ALLOWED_HOSTS`.
   */
  allowedHosts?: readonly string[];
  /** Origins of web pages allowed to call (`https://ui.example.com`); default `TROUPE_GATEWAY_ALLOWED_ORIGINS`, else none but the gateway's own. */
  allowedOrigins?: readonly string[];
  /** Serves `GET /metrics` (Prometheus text) with this when given. */
  metrics?: () => string;
}

export interface Gateway {
  /** `http://host:port`, no trailing slash. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** State-changing methods need the bearer token. */
  readonly tokenRequired: boolean;
  /** Where the token came from (`the token option`, `TROUPE_GATEWAY_TOKEN`, a file's path), or null. */
  readonly tokenSource: string | null;
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
  const maxStreamsPerAddress = opts.maxEventStreamsPerAddress ?? 10;
  const sseMaxBufferedBytes = opts.sseMaxBufferedBytes ?? 256 * 1024;
  const sseStallMs = opts.sseStallMs ?? 10_000;
  for (const [k, v] of [
    ['bodyLimit', bodyLimit],
    ['requestTimeoutMs', requestTimeoutMs],
    ['sseHeartbeatMs', heartbeatMs],
    ['maxEventStreams', maxStreams],
    ['maxEventStreamsPerAddress', maxStreamsPerAddress],
    ['sseMaxBufferedBytes', sseMaxBufferedBytes],
    ['sseStallMs', sseStallMs],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new TypeError(`startGateway: ${k} must be an integer >= 1, got ${String(v)}`);
  }
  const auth = resolveGatewayToken(host, { token: opts.token, tokenFile: opts.tokenFile });
  const guard = browserGuard({ host, allowedHosts: opts.allowedHosts, allowedOrigins: opts.allowedOrigins });
  let baseUrl = '';
  let streams = 0;
  const streamsByAddress = new Map<string, number>();
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
  const deadlines = new RequestDeadlines(requestTimeoutMs);

  function route(req: IncomingMessage, res: ServerResponse): void {
    const raw = req.url ?? '/';
    // The two hot routes as clients send them skip the URL parser (a few µs a request); anything else is parsed.
    const u = raw === '/a2a' || raw === '/health' ? null : new URL(raw, 'http://gateway');
    const pathname = u === null ? raw : u.pathname;
    // `/health/` is `/health`: URLs copied with a trailing slash work.
    const path = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
    const refused = guard.refuse(req.headers.host, req.headers.origin);
    if (refused !== null) {
      sendJson(res, 403, { error: refused });
      req.resume();
      return;
    }
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
        const running = services.running;
        const h = opts.health?.() ?? { status: 'healthy', reasons: [] };
        const status = !running ? 'stopping' : h.status === 'healthy' ? 'ok' : h.status;
        sendJson(res, running && h.status !== 'unreachable' ? 200 : 503, { status, reasons: h.reasons, node: node.name, nodes: [node.name, ...node.dist.nodes()].sort() });
        return;
      }
      case '/.well-known/agent.json':
        if (!allow('GET')) return;
        sendJson(res, 200, agentCard(baseUrl, node.name, auth !== null));
        return;
      case '/events': {
        if (!allow('GET')) return;
        if (req.method === 'HEAD') {
          res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' }).end();
          return;
        }
        const types = parseTypes(u?.searchParams.get('types') ?? null);
        if (types !== undefined && !(types instanceof Set)) {
          sendJson(res, 400, { error: `unknown event type '${types.unknown}' in ?types= (known: ${EVENT_TYPES.join(', ')})` });
          return;
        }
        if (streams >= maxStreams) {
          sendJson(res, 503, { error: `too many event streams (${maxStreams}); try again later` });
          return;
        }
        const address = req.socket.remoteAddress ?? '?';
        const mine = streamsByAddress.get(address) ?? 0;
        if (mine >= maxStreamsPerAddress) {
          sendJson(res, 503, { error: `too many event streams from ${address} (${maxStreamsPerAddress} per address); close one first` });
          return;
        }
        streams++;
        streamsByAddress.set(address, mine + 1);
        sse.add(res);
        serveEvents(req, res, types, {
          hub: services.events,
          node: node.name,
          heartbeatMs,
          maxBufferedBytes: sseMaxBufferedBytes,
          stallMs: sseStallMs,
          onCut: (why) => node.logger.info('gateway: event stream cut off: its client is not reading', { address, why }),
          onEnd: () => {
            streams--;
            const left = (streamsByAddress.get(address) ?? 1) - 1;
            if (left === 0) streamsByAddress.delete(address);
            else streamsByAddress.set(address, left);
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
      deadlines.cancel(deadline);
      if (close) res.setHeader('connection', 'close');
      if (body === null) {
        res.writeHead(status).end();
      } else {
        sendJson(res, status, body);
      }
    };
    const deadline = deadlines.start(() => {
      if (phase === 'body') {
        finish(408, rpcError(null, ErrorCode.Timeout, `request timeout: the body did not arrive within ${requestTimeoutMs} ms`), true);
      } else {
        node.logger.warn('gateway: request timed out', { id, timeoutMs: requestTimeoutMs });
        finish(504, rpcError(id, ErrorCode.Timeout, `request timeout: no answer within ${requestTimeoutMs} ms (the operation may still complete)`, { timeoutMs: requestTimeoutMs }));
      }
    });

    if (!isJsonContentType(req.headers['content-type'])) {
      const got = req.headers['content-type'] === undefined ? 'none' : `'${req.headers['content-type']}'`;
      return finish(415, rpcError(null, ErrorCode.InvalidRequest, `unsupported content type ${got}: send the request as application/json`), true);
    }
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
      deadlines.cancel(deadline);
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
    // A wrong token is refused for any method (the client misconfigured something); a missing one only where state changes.
    const authorization = req.headers.authorization;
    if (auth !== null && (def.changesState || authorization !== undefined) && !bearerMatches(authorization, auth.token)) {
      res.setHeader('www-authenticate', 'Bearer realm="troupe-gateway"');
      const why = authorization === undefined ? 'needs' : 'got a wrong';
      return finish(401, rpcError(id, ErrorCode.Unauthorized, `unauthorized: ${r.method} ${why} bearer token (Authorization: Bearer <token>)`));
    }
    let response: JsonRpcResponse;
    try {
      checkParamDepth(r.params);
      response = rpcResult(id, await runMethod(services, def, r.params));
    } catch (e) {
      if (e instanceof GatewayError) {
        response = rpcError(id, e.code, e.message, e.data);
      } else {
        node.logger.warn('gateway: method failed', { method: r.method, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
        response = rpcError(id, ErrorCode.InternalError, `internal error: ${publicMessage(e)}`);
      }
    }
    // A notification is run but never answered (JSON-RPC 2.0 §4.1).
    finish(notification ? 204 : 200, notification ? null : response);
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      // `cause` keeps the system code (EADDRINUSE), so a caller can pick another port.
      reject(new Error(e.code === 'EADDRINUSE' ? `gateway: port ${opts.port ?? 0} on ${host} is in use` : `gateway: cannot listen on ${host}:${opts.port ?? 0}: ${e.message}`, { cause: e }));
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
  node.logger.info('gateway listening', {
    url: baseUrl,
    node: node.name,
    token: auth === null ? 'none (loopback only)' : `required for state-changing methods, from ${auth.source}${auth.created ? ' (generated now)' : ''}`,
  });

  let closing: Promise<void> | undefined;
  return {
    url: baseUrl,
    host,
    port,
    tokenRequired: auth !== null,
    tokenSource: auth?.source ?? null,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        deadlines.stop();
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
