import { afterEach, describe, expect, it } from 'vitest';
import { Pid } from '@troupe/actor-core';
import { SignalCodec, type Signal } from '@troupe/actor-core/wire';
import { withType } from '../src/frame-encoder.js';
import { CloseReason, FrameType } from '../src/index.js';
import { COOKIE, Cluster, probe, type TestNode } from './helpers.js';
import { RawPeer, dataFrame, remotePid } from './raw-peer.js';

const c = new Cluster();
const raws: RawPeer[] = [];
afterEach(async () => {
  for (const r of raws.splice(0)) r.close();
  await c.closeAll();
});
const codec = new SignalCodec();
const data = dataFrame;
const remote = remotePid;

async function raw(url: string): Promise<RawPeer> {
  const r = await RawPeer.connect(url);
  raws.push(r);
  return r;
}

/** The node still serves its other peer: a message round trip through it. */
async function stillServes(a: TestNode, b: TestNode): Promise<void> {
  const pa = await probe(a.node);
  const pb = await probe(b.node);
  a.node.send(remote(pb.pid), { ping: remote(pa.pid) });
  const m = await pb.next<{ ping: Pid }>();
  b.node.send(m.ping, 'pong');
  expect(await pa.next()).toBe('pong');
}

async function setup(opts = {}): Promise<[TestNode, TestNode]> {
  const a = await c.start('a@local', opts);
  const b = await c.start('b@local');
  await b.t.connect(a.t.url);
  return [a, b];
}

describe('bad input: clear log line, connection closed, node keeps serving', () => {
  it('a data frame before the handshake completes', async () => {
    const [a, b] = await setup();
    const r = await raw(a.t.url);
    await r.nextHandshake(); // the challenge
    r.send(data([{ k: 'send_name', name: 'x', msg: 1 }]));
    expect(await r.closed).toEqual({ code: CloseReason.frame_before_handshake, reason: 'frame_before_handshake' });
    const line = await a.log.wait((l) => l.data?.reason === 'frame_before_handshake');
    expect(line.level).toBe('warn');
    await stillServes(a, b);
  });

  it('an unknown frame type after the handshake', async () => {
    const [a, b] = await setup();
    const r = await raw(a.t.url);
    await r.handshake('evil@local', COOKIE);
    r.send(Buffer.from([0x7f, 1, 2, 3]));
    expect((await r.closed).code).toBe(CloseReason.unknown_frame_type);
    expect((await a.log.wait((l) => l.data?.reason === 'unknown_frame_type')).data?.detail).toMatch(/0x7f/);
    await stillServes(a, b);
  });

  it('malformed msgpack in a data frame', async () => {
    const [a, b] = await setup();
    const r = await raw(a.t.url);
    await r.handshake('evil@local', COOKIE);
    r.send(Buffer.from([FrameType.Data, 0xc1, 0xff, 0x00]));
    expect((await r.closed).code).toBe(CloseReason.decode_error);
    await a.log.wait((l) => l.data?.reason === 'decode_error');
    await stillServes(a, b);
  });

  it('a well-formed frame carrying a malformed signal', async () => {
    const [a, b] = await setup();
    const r = await raw(a.t.url);
    await r.handshake('evil@local', COOKIE);
    r.send(withType(FrameType.Data, codec.encodeValue([[0, 'not a pid', 'msg']])));
    expect((await r.closed).code).toBe(CloseReason.decode_error);
    await stillServes(a, b);
  });

  it('a text message, an empty message, a handshake frame after the handshake', async () => {
    const [a, b] = await setup();
    // A text message cannot carry a sealed frame: refused by frame authentication.
    const t = await raw(a.t.url);
    await t.handshake(`evil${raws.length}@local`, COOKIE);
    t.send('text');
    expect((await t.closed).code).toBe(CloseReason.frame_auth_failed);
    // A sealed empty frame authenticates, and then has no type byte.
    const e = await raw(a.t.url);
    await e.handshake(`evil${raws.length}@local`, COOKIE);
    e.send(Buffer.alloc(0));
    expect((await e.closed).code).toBe(CloseReason.decode_error);
    const r = await raw(a.t.url);
    await r.handshake('evil9@local', COOKIE);
    r.send(r.hello!);
    expect((await r.closed).code).toBe(CloseReason.protocol_error);
    await stillServes(a, b);
  });

  it('an oversized message (maxPayload) closes that connection only', async () => {
    const [a, b] = await setup({ maxPayload: 64 * 1024 });
    const r = await raw(a.t.url);
    await r.handshake('evil@local', COOKIE);
    r.send(Buffer.concat([Buffer.from([FrameType.Data]), Buffer.alloc(100 * 1024)]));
    expect((await r.closed).code).toBe(1009);
    await a.log.wait((l) => /connection error/.test(l.msg) && l.data?.peer === 'evil@local');
    await stillServes(a, b);
  });

  it('signals naming pids this node never issued are ignored; the connection stays up', async () => {
    const [a, b] = await setup();
    const r = await raw(a.t.url);
    await r.handshake('evil@local', COOKIE);
    const pa = await probe(a.node);
    const bogus = new Pid('a@local', 987_654, a.node.creation);
    const otherIncarnation = new Pid('a@local', pa.pid.id, a.node.creation + 1);
    const foreign = new Pid('zzz@local', 1, 1);
    r.send(data([
      { k: 'send', to: bogus, msg: 'x' },
      { k: 'send', to: otherIncarnation, msg: 'x' },
      { k: 'send', to: foreign, msg: 'x' },
      { k: 'exit', from: foreign, to: bogus, reason: 'kill', link: false },
      { k: 'unlink', from: foreign, to: bogus },
      { k: 'demonitor', from: foreign, ref: a.node.makeRef() },
      { k: 'reply', tag: 123_456, value: 'late' },
      { k: 'send', to: remote(pa.pid), msg: 'real' },
    ]));
    expect(await pa.next()).toBe('real');
    expect(a.t.isConnected('evil@local')).toBe(true);
    await stillServes(a, b);
  });
});
