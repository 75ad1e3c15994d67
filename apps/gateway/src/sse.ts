/**
 * `GET /events`: gateway events as server-sent events. The first event,
 * `ready`, tells the client it is subscribed (so a test or a UI can act
 * after it without racing). A client that stops reading is cut off once a
 * bounded amount is buffered, rather than growing memory; it can reconnect.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EVENT_TYPES, type EventHub, type GatewayEventType } from './events.js';

/** Buffered bytes past which a slow SSE client is disconnected. */
const MAX_BUFFERED = 1 << 20;

export interface SseOptions {
  hub: EventHub;
  node: string;
  heartbeatMs: number;
  /** Called when the stream ends, whatever the cause. */
  onEnd(): void;
}

/** `?types=a,b`: only those event types (unknown ones are a 400, named). */
export function parseTypes(q: string | null): Set<GatewayEventType> | { unknown: string } | undefined {
  if (q === null || q === '') return undefined;
  const out = new Set<GatewayEventType>();
  for (const t of q.split(',')) {
    const x = t.trim();
    if (!(EVENT_TYPES as readonly string[]).includes(x)) return { unknown: x };
    out.add(x as GatewayEventType);
  }
  return out;
}

export function serveEvents(req: IncomingMessage, res: ServerResponse, types: Set<GatewayEventType> | undefined, o: SseOptions): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  req.socket.setTimeout(0);
  req.socket.setNoDelay(true);
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    unsubscribe();
    clearInterval(beat);
    if (!res.writableEnded) res.end();
    o.onEnd();
  };
  const write = (chunk: string): void => {
    if (ended) return;
    res.write(chunk);
    if (res.writableLength > MAX_BUFFERED) end();
  };
  const unsubscribe = o.hub.subscribe((e, seq) => {
    if (types !== undefined && !types.has(e.type)) return;
    write(`id: ${seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
  });
  const beat = setInterval(() => write(`: ping\n\n`), o.heartbeatMs);
  beat.unref();
  req.on('close', end);
  res.on('error', end);
  write(`retry: 2000\nevent: ready\ndata: ${JSON.stringify({ node: o.node, types: types === undefined ? [...EVENT_TYPES] : [...types] })}\n\n`);
}
