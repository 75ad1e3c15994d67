import { afterEach, describe, expect, it } from 'vitest';
import { Pid } from '@troupe/actor-core';
import { SignalCodec, type Signal } from '@troupe/actor-core/wire';
import { FrameEncoder } from '../src/frame-encoder.js';
import { decodeFrame } from '../src/frame-decoder.js';
import { FrameType } from '../src/index.js';
import { Cluster, probe } from './helpers.js';

const codec = new SignalCodec();
const to = new Pid('b@h', 1, 1);
const ends = { local: 'b@h', peer: 'a@h', peerCreation: 1 };
const send = (msg: unknown): Signal => ({ k: 'send', to, msg });

describe('frame encoder / decoder', () => {
  it('coalesces queued signals into one Data frame, in order', () => {
    const e = new FrameEncoder(codec, () => {});
    for (let i = 0; i < 100; i++) e.push(send(i));
    const frames = e.flush(1 << 20);
    expect(frames).toHaveLength(1);
    expect(frames[0]![0]).toBe(FrameType.Data);
    const f = decodeFrame(frames[0]!, true, codec, ends);
    expect(f.kind).toBe('data');
    expect(f.kind === 'data' && f.signals.map((s) => (s as { msg: unknown }).msg)).toEqual([...Array(100).keys()]);
    expect(e.flush(1 << 20)).toEqual([]);
  });

  it('splits a batch that would exceed maxPayload; drops (and reports) a single signal that is too large', () => {
    const dropped: string[] = [];
    const e = new FrameEncoder(codec, (_s, err) => dropped.push(err.message));
    for (let i = 0; i < 10; i++) e.push(send(Buffer.alloc(3000, i)));
    e.push(send(Buffer.alloc(20_000)));
    const frames = e.flush(8 * 1024);
    expect(frames.length).toBeGreaterThan(3);
    for (const f of frames) expect(f.length).toBeLessThanOrEqual(8 * 1024);
    const msgs = frames.flatMap((f) => {
      const d = decodeFrame(f, true, codec, ends);
      return d.kind === 'data' ? d.signals.map((s) => ((s as { msg: Buffer }).msg)[0]) : [];
    });
    expect(msgs).toEqual([...Array(10).keys()]);
    expect(dropped).toHaveLength(1);
    expect(dropped[0]).toMatch(/more than maxPayload/);
  });

  it('an unencodable payload drops that signal only', () => {
    const dropped: string[] = [];
    const e = new FrameEncoder(codec, (kind) => dropped.push(kind));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    e.push(send(1));
    e.push(send(cyclic));
    e.push(send(3));
    const frames = e.flush(1 << 20);
    const d = decodeFrame(frames[0]!, true, codec, ends);
    expect(d.kind === 'data' && d.signals.map((s) => (s as { msg: unknown }).msg)).toEqual([1, 3]);
    expect(dropped).toEqual(['send']);
  });
});

describe('batching on a live connection', () => {
  const c = new Cluster();
  afterEach(() => c.closeAll());

  it('the first signal of a tick is written at the end of its job, with what that job queued; the rest of the tick travels as one WebSocket message', async () => {
    const a = await c.start('a@local');
    const b = await c.start('b@local');
    await a.t.connect(b.t.url);
    const pb = await probe(b.node);
    const target = new Pid(pb.pid.node, pb.pid.id, pb.pid.creation);
    const conn = (b.t as unknown as { peers: Map<string, { liveness: { received: number } }> }).peers.get('a@local')!;
    const sender = (a.t as unknown as { peers: Map<string, { liveness: { sent: number } }> }).peers.get('b@local')!;
    const before = conn.liveness.received;
    const sentBefore = sender.liveness.sent;
    for (let i = 0; i < 3; i++) a.node.send(target, i);
    expect(sender.liveness.sent - sentBefore).toBe(0); // this job may still queue more
    await Promise.resolve();
    expect(sender.liveness.sent - sentBefore).toBe(1); // on the socket at the job's end, before any I/O
    for (let i = 3; i < 500; i++) a.node.send(target, i);
    await Promise.resolve();
    expect(sender.liveness.sent - sentBefore).toBe(1); // the rest waits for the end of the tick
    for (let i = 0; i < 500; i++) expect(await pb.next()).toBe(i);
    expect(conn.liveness.received - before).toBe(2);
  });
});
