import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { Rpc, formatReason, type Node } from '@troupe/actor-core';
import type { ClusterView } from './cluster-view.js';
import { HttpGuard } from './http-guard.js';

const STATIC = new URL('../static/', import.meta.url);
const FILES: Record<string, { file: string; type: string }> = {
  '/static/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/static/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};
const BODY_LIMIT = 4096;
const MAX_STREAMS = 16;
/** A live stream whose client has this much unread is closed (a client that stopped reading). */
const STREAM_BACKLOG = 1 << 20;
const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

export interface ObserverHttp {
  readonly server: Server;
  readonly port: number;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    req.resume();
    return Promise.reject(new HttpError(415, 'the body must be application/json'));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > BODY_LIMIT) {
        // Stop reading; the refusal is answered, then the connection closed (see the caller).
        req.pause();
        req.removeAllListeners('data');
        reject(new HttpError(413, `body over ${BODY_LIMIT} bytes`));
      } else chunks.push(c);
    });
    req.on('end', () => {
      try {
        const v: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
        resolve(v as Record<string, unknown>);
      } catch {
        reject(new HttpError(400, 'the body must be a JSON object'));
      }
    });
    req.on('error', () => reject(new HttpError(400, 'request aborted')));
  });
}

/** The observer's web server: the page, its JSON API and the live channel (SSE), all behind the guard. */
export async function startHttp(node: Node, view: ClusterView, token: string, host: string, port: number): Promise<ObserverHttp> {
  const page = readFileSync(new URL('index.html', STATIC), 'utf8');
  const files = new Map(Object.entries(FILES).map(([k, v]) => [k, { body: readFileSync(new URL(v.file, STATIC)), type: v.type }]));
  const streams = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  let guard: HttpGuard | null = null;

  const connectedNode = (name: string | undefined): string => {
    if (name === undefined || !view.isConnected(name)) throw new HttpError(404, `not connected to node ${JSON.stringify(name ?? '')}`);
    return name;
  };
  const call = <R>(peer: string, fn: string, args: unknown[] = []): Promise<R> =>
    Rpc.call<R>(node, peer, fn, args, { timeoutMs: 5000 }).catch((e: unknown) => {
      throw new HttpError(502, `${peer}: ${e instanceof Error ? e.message : formatReason(e)}`);
    });

  async function api(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    let parts: string[];
    try {
      parts = url.pathname.split('/').slice(2).map(decodeURIComponent); // after /api/
    } catch {
      throw new HttpError(400, 'malformed path');
    }
    const method = req.method ?? 'GET';
    const get = method === 'GET';
    const post = method === 'POST';
    if (parts[0] === 'cluster' && get) return sendJson(res, 200, view.summary());
    if (parts[0] === 'events' && get) return sendJson(res, 200, view.events);
    if (parts[0] === 'services' && get) {
      const out: Record<string, unknown> = {};
      const names = [...view.nodes.values()].filter((v) => view.isConnected(v.name)).map((v) => v.name);
      await Promise.all(names.map(async (n) => (out[n] = await call(n, 'troupe.sys.services').catch((e: Error) => ({ error: e.message })))));
      return sendJson(res, 200, out);
    }
    if (parts[0] === 'nodes' && parts.length === 3) {
      const n = connectedNode(parts[1]);
      const what = parts[2];
      if (what === 'processes' && get) return sendJson(res, 200, await call(n, 'troupe.sys.processes'));
      if (what === 'trees' && get) return sendJson(res, 200, await call(n, 'troupe.sys.trees'));
      if (what === 'process' && get) return sendJson(res, 200, await call(n, 'troupe.sys.process', [url.searchParams.get('pid') ?? '']));
      if (what === 'trace' && get) {
        const since = Number(url.searchParams.get('since') ?? '0');
        return sendJson(res, 200, await call(n, 'troupe.sys.traceRead', [url.searchParams.get('pid') ?? '', Number.isInteger(since) && since >= 0 ? since : 0]));
      }
      if (what === 'trace' && post) {
        const b = await readJson(req);
        return sendJson(res, 200, await call(n, b.on === false ? 'troupe.sys.untrace' : 'troupe.sys.trace', [b.pid]));
      }
      if (what === 'kill' && post) {
        const b = await readJson(req);
        return sendJson(res, 200, { killed: await call(n, 'troupe.sys.kill', [b.pid, b.reason]) });
      }
    }
    throw new HttpError(get || post ? 404 : 405, `no route ${method} ${url.pathname}`);
  }

  function live(req: IncomingMessage, res: ServerResponse): void {
    if (streams.size >= MAX_STREAMS) return sendJson(res, 503, { error: 'too many live streams' });
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
    streams.add(res);
    let lastEvent = view.events.at(-1)?.seq ?? -1;
    const push = (): void => {
      if (res.writableLength > STREAM_BACKLOG) {
        res.destroy();
        return;
      }
      res.write(`event: cluster\ndata: ${JSON.stringify(view.summary())}\n\n`);
      const last = view.events.at(-1);
      if (last !== undefined && last.seq !== lastEvent) {
        lastEvent = last.seq;
        res.write(`event: events\ndata: ${JSON.stringify(view.events.slice(-50))}\n\n`);
      }
    };
    push();
    const off = view.onChange(push);
    req.on('close', () => {
      off();
      streams.delete(res);
    });
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://observer');
    const refused = guard!.check(req, url);
    if (refused !== null) {
      req.resume();
      return sendJson(res, refused.status, { error: refused.error });
    }
    if (url.pathname.startsWith('/api/')) {
      api(req, res, url).catch((e: unknown) => {
        if (res.headersSent) return void res.destroy();
        if (e instanceof HttpError) {
          if (e.status === 413) {
            res.setHeader('connection', 'close');
            res.on('finish', () => req.destroy());
          }
          return sendJson(res, e.status, { error: e.message });
        }
        node.logger.error('observer: request failed', { path: url.pathname, error: String(e) });
        sendJson(res, 500, { error: 'internal error' });
      });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      req.resume();
      return sendJson(res, 405, { error: 'only GET here' });
    }
    if (url.pathname === '/live') return live(req, res);
    if (url.pathname === '/') {
      // The token goes into the page (and its script and style URLs) only for a request that already had it.
      const t = encodeURIComponent(token);
      const body = page.replaceAll('__TOKEN__', t);
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8' });
      return void res.end(body);
    }
    const f = files.get(url.pathname);
    if (f !== undefined) {
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': f.type, 'content-length': f.body.length });
      return void res.end(f.body);
    }
    sendJson(res, 404, { error: `no page ${url.pathname}` });
  });
  server.requestTimeout = 15_000;
  server.headersTimeout = 10_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  const boundPort = typeof addr === 'object' && addr !== null ? addr.port : port;
  guard = new HttpGuard(token, host, boundPort);
  return {
    server,
    port: boundPort,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of streams) s.destroy();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
