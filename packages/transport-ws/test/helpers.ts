import { Node, type Logger } from '@troupe/actor-core';
import { withTimeout } from '@troupe/actor-core/testing';
import { WsTransport, type NodeDownEvent, type NodeUpEvent, type WsTransportOptions } from '../src/index.js';

export const COOKIE = 'test-cookie-0123456789abcdef';

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  data: Record<string, unknown> | undefined;
}

/** A logger that keeps every line, so tests can assert that a failure was logged. */
export class CaptureLogger implements Logger {
  readonly lines: LogLine[] = [];
  private waiters: { pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  debug = (msg: string, data?: Record<string, unknown>): void => this.add('debug', msg, data);
  info = (msg: string, data?: Record<string, unknown>): void => this.add('info', msg, data);
  warn = (msg: string, data?: Record<string, unknown>): void => this.add('warn', msg, data);
  error = (msg: string, data?: Record<string, unknown>): void => this.add('error', msg, data);

  private add(level: LogLine['level'], msg: string, data?: Record<string, unknown>): void {
    const l = { level, msg, data };
    this.lines.push(l);
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(l)) return true;
      w.resolve(l);
      return false;
    });
  }

  /** The first line (already logged or yet to come) matching `pred`; bounded. */
  wait(pred: (l: LogLine) => boolean, timeoutMs = 3000): Promise<LogLine> {
    const found = this.lines.find(pred);
    if (found !== undefined) return Promise.resolve(found);
    return withTimeout(new Promise<LogLine>((resolve) => this.waiters.push({ pred, resolve })), timeoutMs, 'log line');
  }
}


export interface TestNode {
  node: Node;
  t: WsTransport;
  log: CaptureLogger;
}

/** Starts nodes and closes every transport and node at the end of each test. */
export class Cluster {
  private readonly started: TestNode[] = [];

  async start(name: string, opts: WsTransportOptions = {}, creation?: number): Promise<TestNode> {
    const log = new CaptureLogger();
    const node = new Node({ name, logger: log, ...(creation !== undefined ? { creation } : {}) });
    const t = await WsTransport.start(node, { cookie: COOKIE, host: '127.0.0.1', port: 0, ...opts });
    const tn = { node, t, log };
    this.started.push(tn);
    return tn;
  }

  async closeAll(): Promise<void> {
    const all = this.started.splice(0);
    await Promise.all(all.map(async ({ t }) => t.close()));
    for (const { node } of all) node.shutdown();
  }
}

/** The next event on `t` matching `pred`; bounded. */
export function nextEvent<E extends 'nodeup' | 'nodedown'>(
  t: WsTransport,
  event: E,
  pred: (e: E extends 'nodeup' ? NodeUpEvent : NodeDownEvent) => boolean = () => true,
  timeoutMs = 3000,
): Promise<E extends 'nodeup' ? NodeUpEvent : NodeDownEvent> {
  type Ev = E extends 'nodeup' ? NodeUpEvent : NodeDownEvent;
  let handler: ((e: Ev) => void) | undefined;
  const p = new Promise<Ev>((resolve) => {
    handler = (e: Ev): void => {
      if (pred(e)) resolve(e);
    };
    (t as unknown as { on(ev: string, h: (e: Ev) => void): void }).on(event, handler);
  });
  return withTimeout(p, timeoutMs, `${event} on ${t.node.name}`).finally(() => {
    (t as unknown as { off(ev: string, h: (e: Ev) => void): void }).off(event, handler!);
  });
}

// Generic helpers (probe process, bounded polling) are shared with the other
// packages' suites through actor-core's `testing` entry.
export { probe, until, withTimeout, type Probe } from '@troupe/actor-core/testing';
