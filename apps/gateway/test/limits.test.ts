/**
 * Item: every resource an HTTP client can make a node hold is bounded, with
 * stated defaults. Real sockets on 127.0.0.1 (mesh and HTTP).
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryNetwork, Node, type Logger } from '@troupe/actor-core';
import { ErrorCode, startAgentServices, startGateway, type Gateway } from '../src/index.js';
import { call, openEvents, rpc, until } from './helpers.js';
import { startWsPair, type WsPair } from './ws-pair.js';

interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  data: Record<string, unknown> | undefined;
}
const logged: LogLine[] = [];
const capture: Logger = {
  debug: (msg, data) => void logged.push({ level: 'debug', msg, data }),
  info: (msg, data) => void logged.push({ level: 'info', msg, data }),
  warn: (msg, data) => void logged.push({ level: 'warn', msg, data }),
  error: (msg, data) => void logged.push({ level: 'error', msg, data }),
};

let pair: WsPair;
let g: Gateway;

beforeAll(async () => {
  pair = await startWsPair({ maxAgents: 4, maxTaskBytes: 2000, maxQueueBytes: 5000, logEvents: 'info' }, capture);
  g = await startGateway({ services: pair.sa, maxEventStreams: 4, maxEventStreamsPerAddress: 2, sseMaxBufferedBytes: 64 * 1024, sseStallMs: 300 });
});

afterAll(async () => {
  await g?.close();
  await pair?.close();
});

describe('agents, tasks and queues', () => {
  it('maxAgents bounds the agents of the whole cluster: one more is -32006, and a stopped one frees its place', async () => {
    const names = [pair.nameOn(pair.a, 'cap-a'), pair.nameOn(pair.b, 'cap-b'), pair.nameOn(pair.a, 'cap-a2'), pair.nameOn(pair.b, 'cap-b2')];
    for (const name of names) await call(g.url, 'StartAgent', { name });
    const over = await rpc(g.url, 'StartAgent', { name: pair.nameOn(pair.b, 'cap-over') });
    expect(over.body?.error).toMatchObject({ code: ErrorCode.TooManyAgents, data: { limit: 4 } });
    expect(pair.sa.listAgents()).toHaveLength(4);
    await call(g.url, 'StopAgent', { agent: names[3] });
    await until('the stop is seen', () => pair.sa.listAgents().length === 3);
    await call(g.url, 'StartAgent', { name: pair.nameOn(pair.b, 'cap-over') });
    for (const a of pair.sa.listAgents()) await call(g.url, 'StopAgent', { agent: a.name });
    await until('all stopped', () => pair.sa.listAgents().length === 0);
  });

  it('a task over maxTaskBytes is -32602 and not queued; tasks past maxQueueBytes are -32005 (remote agent)', async () => {
    const name = pair.nameOn(pair.b, 'bytes');
    await call(g.url, 'StartAgent', { name });
    const big = await rpc(g.url, 'SendMessage', { agent: name, action: 'echo', params: { text: 'x'.repeat(2500) } });
    expect(big.body?.error).toMatchObject({ code: ErrorCode.InvalidParams, data: { param: 'params', limit: 2000 } });
    // 1500-byte tasks: three fit in 5000 bytes, the fourth does not.
    for (let i = 0; i < 3; i++) await call(g.url, 'SendMessage', { agent: name, action: 'echo', params: { text: String(i).repeat(1500) } });
    const full = await rpc(g.url, 'SendMessage', { agent: name, action: 'echo', params: { text: 'z'.repeat(1500) } });
    expect(full.body?.error).toMatchObject({ code: ErrorCode.QueueFull, data: { agent: name, limitBytes: 5000 } });
    const st = await call<{ queue: unknown[] }>(g.url, 'GetAgentState', { agent: name });
    expect(st.queue).toHaveLength(3);
    // Processing one frees its bytes.
    await call(g.url, 'ProcessNext', { agent: name });
    await call(g.url, 'SendMessage', { agent: name, action: 'echo', params: { text: 'z'.repeat(1500) } });
    await call(g.url, 'StopAgent', { agent: name });
  });

  it('task events are logged at debug and truncated; agent events at info', async () => {
    const name = pair.nameOn(pair.b, 'logged');
    await call(g.url, 'StartAgent', { name });
    const text = 'L'.repeat(1900);
    await call(g.url, 'SendMessage', { agent: name, action: 'upper', params: { text } });
    await call(g.url, 'ProcessNext', { agent: name });
    // Only the node where an event happens logs it (both nodes share one logger here): one line each.
    const lines = (type: string) =>
      until(`${type} logged`, () => {
        const ls = logged.filter((l) => l.msg === `gateway event ${type}` && l.data?.['agent'] === name);
        return ls.length === 1 && ls;
      });
    for (const l of [...(await lines('task_received')), ...(await lines('task_completed'))]) {
      expect(l.level).toBe('debug');
      expect(JSON.stringify(l.data).length).toBeLessThan(1000);
    }
    expect((await lines('agent_started')).map((l) => [l.level, l.data?.['node']])).toEqual([['info', pair.b.name]]);
    await call(g.url, 'StopAgent', { agent: name });
  });

  it('node events are logged at debug: the node logs its nodeup and nodedown already', async () => {
    const net = new MemoryNetwork();
    const [x, w] = ['lx@local', 'lw@local'].map((name) => new Node({ name, logger: capture })) as [Node, Node];
    const services = await Promise.all([x, w].map((n) => startAgentServices(n, { logEvents: 'info' })));
    try {
      net.connect(x, w);
      const ups = await until('both nodes log the nodeup', () => {
        const ls = logged.filter((l) => l.msg === 'gateway event node_up' && (l.data?.['node'] === x.name || l.data?.['node'] === w.name));
        return ls.length === 2 && ls;
      });
      expect(ups.map((l) => l.level)).toEqual(['debug', 'debug']);
    } finally {
      await Promise.all(services.map((s) => s.stop({ drain: false })));
      x.shutdown();
      w.shutdown();
    }
  });
});

describe('event streams', () => {
  it('at most maxEventStreamsPerAddress streams per client address (503 beyond); closing one frees its place', async () => {
    const s1 = await openEvents(g.url);
    const s2 = await openEvents(g.url);
    try {
      const r = await fetch(`${g.url}/events`);
      expect(r.status).toBe(503);
      expect(await r.json()).toMatchObject({ error: expect.stringMatching(/per address/) });
      s1.close();
      await until('the first stream is released', async () => (await fetch(`${g.url}/events`, { method: 'HEAD' })).status === 200 && pair.sa.events.listenerCount === 1);
      const s3 = await openEvents(g.url);
      s3.close();
    } finally {
      s1.close();
      s2.close();
    }
    await until('streams released', () => pair.sa.events.listenerCount === 0);
  });

  it('a client that stops reading is cut off (its socket destroyed, not left to flush) once the buffer stays full', async () => {
    await until('earlier streams released', () => pair.sa.events.listenerCount === 0);
    const sock: Socket = connect(g.port, '127.0.0.1');
    // A reset may arrive while paused: listen from the start.
    const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
    sock.on('error', () => {});
    await new Promise<void>((resolve) => sock.once('connect', resolve));
    let head = '';
    await new Promise<void>((resolve) => {
      const onData = (c: Buffer): void => {
        head += c.toString('latin1');
        if (head.includes('event: ready')) {
          sock.off('data', onData);
          resolve();
        }
      };
      sock.on('data', onData);
      sock.write(`GET /events HTTP/1.1\r\nHost: 127.0.0.1:${g.port}\r\n\r\n`);
    });
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    sock.pause(); // a client that stops reading
    await until('only this stream is open', () => pair.sa.events.listenerCount === 1);
    // Events flow (published here: delivered to this node's streams) until the server gives up on the stream.
    const blob = 'e'.repeat(16 * 1024);
    await until(
      'the stalled stream is dropped',
      () => {
        for (let i = 0; i < 16; i++) pair.sa.events.publish({ type: 'node_up', at: new Date().toISOString(), node: pair.a.name, data: { peer: blob } }, true);
        return pair.sa.events.listenerCount === 0;
      },
      10_000,
    );
    // The socket is gone on the server: resuming, the client gets at most what was in flight, then the end or a
    // reset — no chunked terminator (the response was aborted, not ended after a flush).
    let tail = '';
    sock.on('data', (c: Buffer) => void (tail += c.toString('latin1')));
    sock.resume();
    const t0 = Date.now();
    await closed;
    expect(Date.now() - t0).toBeLessThan(2000); // not after the keep-alive timeout of a finished response
    expect(tail.endsWith('0\r\n\r\n')).toBe(false);
  });
});
