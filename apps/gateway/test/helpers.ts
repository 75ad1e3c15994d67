/**
 * Test helpers: JSON-RPC over real HTTP, an SSE reader with bounded waits,
 * and a bounded poll (for state that converges by replication, not by an event).
 */
import type { GatewayEvent } from '../src/index.js';

export interface RpcReply<T = unknown> {
  status: number;
  body: { jsonrpc: '2.0'; id: string | number | null; result?: T; error?: { code: number; message: string; data?: Record<string, unknown> } } | null;
}

let nextId = 1;

/** POSTs one JSON-RPC request; `raw` sends the given text as the body instead. */
export async function rpcRaw(url: string, body: string, headers: Record<string, string> = {}): Promise<RpcReply> {
  const r = await fetch(`${url}/a2a`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await r.text();
  return { status: r.status, body: text === '' ? null : (JSON.parse(text) as RpcReply['body']) };
}

export function rpc<T = unknown>(url: string, method: string, params?: unknown): Promise<RpcReply<T>> {
  const req: Record<string, unknown> = { jsonrpc: '2.0', method, id: nextId++ };
  if (params !== undefined) req['params'] = params;
  return rpcRaw(url, JSON.stringify(req)) as Promise<RpcReply<T>>;
}

/** The result, or throws with the error (for the happy paths). */
export async function call<T = unknown>(url: string, method: string, params?: unknown): Promise<T> {
  const r = await rpc<T>(url, method, params);
  if (r.body?.error !== undefined) throw new Error(`${method} ${JSON.stringify(params)} -> ${r.body.error.code} ${r.body.error.message}`);
  return r.body!.result as T;
}

/** Polls `f` until it returns a value other than undefined/false, at most `timeoutMs`. */
export async function until<T>(what: string, f: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last !== undefined ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface SseEvent {
  event: string;
  id: string | undefined;
  data: GatewayEvent & { types?: string[] };
}

export interface EventStream {
  readonly events: SseEvent[];
  /** The first event (at index >= `from`) matching `pred`, waiting at most `timeoutMs`. */
  waitFor(pred: (e: SseEvent) => boolean, opts?: { timeoutMs?: number; from?: number }): Promise<SseEvent>;
  /** Number of events so far (a mark for `from`). */
  mark(): number;
  close(): void;
}

/** Opens `GET /events` and resolves once the `ready` event arrived (the stream is subscribed). */
export async function openEvents(url: string, query = ''): Promise<EventStream> {
  const ac = new AbortController();
  const res = await fetch(`${url}/events${query}`, { signal: ac.signal });
  if (res.status !== 200 || res.body === null) throw new Error(`GET /events: ${res.status}`);
  const events: SseEvent[] = [];
  const waiters = new Set<() => void>();
  let ended = false;
  void (async () => {
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let buf = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let event = 'message';
          let id: string | undefined;
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('id: ')) id = line.slice(4);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (data === '') continue;
          events.push({ event, id, data: JSON.parse(data) as SseEvent['data'] });
          for (const w of [...waiters]) w();
        }
      }
    } catch {
      // aborted
    } finally {
      ended = true;
      for (const w of [...waiters]) w();
    }
  })();
  const stream: EventStream = {
    events,
    mark: () => events.length,
    waitFor(pred, opts = {}) {
      const from = opts.from ?? 0;
      const timeoutMs = opts.timeoutMs ?? 5000;
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const hit = events.slice(from).find(pred);
          if (hit !== undefined) {
            done();
            resolve(hit);
            return true;
          }
          if (ended) {
            done();
            reject(new Error(`event stream ${url} ended; events: ${events.map((e) => e.event).join(', ')}`));
            return true;
          }
          return false;
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no matching event from ${url} within ${timeoutMs} ms; got: ${events.map((e) => `${e.event}(${e.data.agent ?? e.data.data?.['peer'] ?? ''})`).join(', ')}`));
        }, timeoutMs);
        const waiter = (): void => void check();
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(waiter);
        };
        if (!check()) waiters.add(waiter);
      });
    },
    close: () => ac.abort(),
  };
  await stream.waitFor((e) => e.event === 'ready');
  return stream;
}
