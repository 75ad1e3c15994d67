/**
 * `GET /events`: gateway events as server-sent events. The first event,
 * `ready`, tells the client it is subscribed: every event published
 * anywhere after it reaches the stream (so a test or a UI can act after it
 * without racing).
 *
 * A client that stops reading must not make the node hold its events: once
 * the socket pushes back (a write returns false), the client has `stallMs`
 * to drain it, and the buffer may never pass `maxBufferedBytes`; otherwise
 * the socket is destroyed — not ended, which would wait for the client to
 * read what is buffered. The client can reconnect.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EVENT_TYPES, type EventHub, type GatewayEventType } from './events.js';

export interface SseOptions {
  hub: EventHub;
  node: string;
  heartbeatMs: number;
  /** Bytes buffered for the client past which it is cut off. */
  maxBufferedBytes: number;
  /** How long a pushed-back stream may stay undrained before it is cut off (ms). */
  stallMs: number;
  /** The client was cut off for not reading. */
  onCut(why: string): void;
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
  let stall: NodeJS.Timeout | undefined;
  /** `abort`: destroy the socket, dropping what is buffered, instead of ending the response after it. */
  const end = (abort = false): void => {
    if (ended) return;
    ended = true;
    unsubscribe();
    clearInterval(beat);
    clearTimeout(stall);
    if (abort) res.destroy();
    else if (!res.writableEnded) res.end();
    o.onEnd();
  };
  const cut = (why: string): void => {
    if (ended) return;
    o.onCut(why);
    end(true);
  };
  const write = (chunk: string): void => {
    if (ended) return;
    const flowing = res.write(chunk);
    if (res.writableLength > o.maxBufferedBytes) return cut(`more than ${o.maxBufferedBytes} bytes buffered`);
    if (!flowing && stall === undefined) {
      stall = setTimeout(() => cut(`not drained within ${o.stallMs} ms`), o.stallMs);
      stall.unref();
    }
  };
  res.on('drain', () => {
    clearTimeout(stall);
    stall = undefined;
  });
  let ready = false;
  const unsubscribe = o.hub.subscribe((e, seq) => {
    // Before `ready` the stream promises nothing: an event then would reach it from some nodes and not others.
    if (!ready || (types !== undefined && !types.has(e.type))) return;
    write(`id: ${seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
  });
  const beat = setInterval(() => write(`: ping\n\n`), o.heartbeatMs);
  beat.unref();
  req.on('close', () => end());
  res.on('error', () => end(true));
  // `ready` once the other nodes confirmed they send here: from then on the stream misses no event.
  void o.hub.whenInterestSeen().then(() => {
    ready = true;
    write(`retry: 2000\nevent: ready\ndata: ${JSON.stringify({ node: o.node, types: types === undefined ? [...EVENT_TYPES] : [...types] })}\n\n`);
  });
}
