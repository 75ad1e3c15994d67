import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { Node, Pid } from '@troupe/actor-core';
import { encodeHandshake } from '../src/handshake/messages.js';
import { resolveOptions } from '../src/options.js';
import { CloseReason, HandshakeError, type WsTransportOptions } from '../src/index.js';
import { COOKIE, Cluster, nextEvent, until, type TestNode } from './helpers.js';
import { RawPeer, dataFrame, remotePid } from './raw-peer.js';
import { Relay, type RelayLink, type ToB } from './relay.js';

/**
 * Issue 11 item 2: frames after the handshake are authenticated. An on-path
 * relay without the cookie forwards a genuine handshake between two real
 * nodes, then injects, replays, reorders, drops, alters or reflects frames:
 * the receiving node delivers nothing from that frame on, closes with
 * `frame_auth_failed` (4020), logs it once, and the two nodes reconnect.
 */

const c = new Cluster();
const relays: Relay[] = [];
const raws: RawPeer[] = [];
afterEach(async () => {
  for (const r of raws.splice(0)) r.close();
  for (const r of relays.splice(0)) await r.close();
  await c.closeAll();
});

const FAST: WsTransportOptions = { reconnect: { initialMs: 20, maxMs: 100, giveUpMs: 10_000 } };
const AUTH_FAILED = 'transport-ws: frame failed authentication, connection closed';
/** Large enough that its frame is told apart from a tick (17 bytes sealed). */
const PAD = 'x'.repeat(200);
const isBig = (b: Buffer): boolean => b.length > 150;

/** A process that records the `tag` of every message it gets, in mailbox order. */
function collector(node: Node): { pid: Pid; got: unknown[] } {
  const got: unknown[] = [];
  const pid = node.spawn({ handle: (m: unknown) => void got.push((m as { tag?: unknown }).tag ?? m) });
  return { pid, got };
}

interface Relayed {
  a: TestNode;
  b: TestNode;
  link: RelayLink;
  sink: { pid: Pid; got: unknown[] };
  /** Sends `{tag, pad}` from A to the sink on B. */
  send(tag: string): void;
}

/** a and b, a dialling b through a relay that applies `toB` to what a sends. */
async function relayed(toB?: ToB, opts: WsTransportOptions = {}): Promise<Relayed> {
  const a = await c.start('a@local', { ...FAST, ...opts });
  const b = await c.start('b@local', { ...FAST, ...opts });
  const relay = await Relay.start(b.t.url, toB);
  relays.push(relay);
  expect(await a.t.connect(relay.url)).toBe('b@local');
  await until(() => b.t.isConnected('a@local'), 3000, 'b to see a');
  const sink = collector(b.node);
  const to = remotePid(sink.pid);
  return { a, b, link: relay.links[0]!, sink, send: (tag) => a.node.send(to, { tag, pad: PAD }) };
}

/** After the attack: both sides lost the connection, they reconnect by themselves (directly), and a message flows. */
async function recovers(r: Relayed, before: unknown[]): Promise<void> {
  await until(() => r.a.t.isConnected('b@local') && r.b.t.isConnected('a@local'), 5000, 'reconnection', { poll: 'timer' });
  r.send('after');
  await until(() => r.sink.got.includes('after'), 3000, 'the message after reconnecting', { poll: 'timer' });
  expect(r.sink.got).toEqual([...before, 'after']);
}

/** Starts watching both ends; the wait it returns resolves once B refused a frame from A and both ends saw the connection go. */
function refusal(r: Relayed): () => Promise<void> {
  const downB = nextEvent(r.b.t, 'nodedown', (e) => e.node === 'a@local');
  const downA = nextEvent(r.a.t, 'nodedown', (e) => e.node === 'b@local');
  return async () => {
    expect(await r.link.bClosed).toEqual({ code: CloseReason.frame_auth_failed, reason: 'frame_auth_failed' });
    expect((await downB).reason).toBe('frame_auth_failed');
    await downA;
    await r.b.log.wait((l) => l.msg === AUTH_FAILED && l.level === 'warn' && l.data?.peer === 'a@local');
  };
}

const authLines = (n: TestNode): number => n.log.lines.filter((l) => l.msg === AUTH_FAILED).length;

describe('frame authentication (AES-256-GCM, per-connection keys): what a relay without the cookie cannot do', () => {
  it('injected frame: a relay forwards a genuine handshake, then injects a DATA frame; B delivers nothing, closes 4020, and the nodes reconnect', async () => {
    const r = await relayed();
    const refused = refusal(r);
    r.link.injectToB(dataFrame([{ k: 'send', to: remotePid(r.sink.pid), msg: { tag: 'injected' } }]));
    await refused();
    await recovers(r, []);
    expect(authLines(r.b)).toBe(1);
  });

  it('replayed frame: the genuine frame is delivered once, its copy is refused', async () => {
    let dup = true;
    const r = await relayed((f) => (f.postHandshake && isBig(f.data) && dup ? ((dup = false), [f.data, f.data]) : [f.data]));
    const refused = refusal(r);
    r.send('m1');
    await refused();
    await recovers(r, ['m1']);
    expect(authLines(r.b)).toBe(1);
  });

  it('reordered frames: the later one arriving first is refused, and nothing after it is delivered', async () => {
    let held: Buffer | null = null;
    let swapped = false;
    const r = await relayed((f) => {
      if (!f.postHandshake || !isBig(f.data) || swapped) return [f.data];
      if (held === null) {
        held = f.data;
        return [];
      }
      swapped = true;
      return [f.data, held];
    });
    const refused = refusal(r);
    // Two frames: the first signal of a quiet tick is written at the end of its job, the second at the tick's end.
    r.send('m1');
    await Promise.resolve();
    r.send('m2');
    await refused();
    await recovers(r, []);
  });

  it('dropped frame: the frame after a dropped one is refused', async () => {
    let dropped = false;
    const r = await relayed((f) => (f.postHandshake && isBig(f.data) && !dropped ? ((dropped = true), []) : [f.data]));
    const refused = refusal(r);
    r.send('m1');
    await Promise.resolve(); // m2 in a frame of its own, as above
    r.send('m2');
    await refused();
    await recovers(r, []);
  });

  it('one tampered byte: refused, nothing delivered', async () => {
    let done = false;
    const r = await relayed((f) => {
      if (!f.postHandshake || !isBig(f.data) || done) return [f.data];
      done = true;
      const t = Buffer.from(f.data);
      t[t.length >> 1]! ^= 0x01;
      return [t];
    });
    const refused = refusal(r);
    r.send('m1');
    await refused();
    await recovers(r, []);
  });

  it('reflected frame: A\'s own frame sent back to A does not open (one key per direction)', async () => {
    let done = false;
    const r = await relayed((f, link) => {
      if (f.postHandshake && isBig(f.data) && !done) {
        done = true;
        link.injectToA(f.data);
      }
      return [f.data];
    });
    const downA = nextEvent(r.a.t, 'nodedown', (e) => e.node === 'b@local');
    r.send('m1');
    expect((await downA).reason).toBe('frame_auth_failed');
    expect(await r.link.aClosed).toEqual({ code: CloseReason.frame_auth_failed, reason: 'frame_auth_failed' });
    await r.a.log.wait((l) => l.msg === AUTH_FAILED && l.data?.peer === 'b@local');
    await recovers(r, ['m1']);
  });

  it('a peer with the cookie whose frames are sealed is served; its raw (unsealed) frame is refused', async () => {
    const b = await c.start('b@local');
    const sink = collector(b.node);
    const ok = await RawPeer.connect(b.t.url);
    raws.push(ok);
    await ok.handshake('ok@local', COOKIE);
    ok.send(dataFrame([{ k: 'send', to: remotePid(sink.pid), msg: { tag: 'sealed' } }]));
    await until(() => sink.got.includes('sealed'), 3000, 'the sealed frame');
    // The node's own frames to it open under the keys the raw peer derived.
    ok.send(dataFrame([{ k: 'send', to: remotePid(sink.pid), msg: { tag: 'sealed2' } }]));
    ok.sendRaw(dataFrame([{ k: 'send', to: remotePid(sink.pid), msg: { tag: 'raw' } }]));
    expect((await ok.closed).code).toBe(CloseReason.frame_auth_failed);
    expect(sink.got).toEqual(['sealed', 'sealed2']);
  });
});

describe("frameAuth: 'none' (explicit, insecure)", () => {
  it("works when both ends choose it: frames are not sealed (a relay's injected frame is delivered, as documented)", async () => {
    const r = await relayed(undefined, { frameAuth: 'none' });
    expect(r.a.t.peer('b@local')?.frameAuth).toBe('none');
    expect(r.b.t.peer('a@local')?.frameAuth).toBe('none');
    await r.a.log.wait((l) => l.level === 'warn' && /frame authentication is off/.test(l.msg));
    r.send('m1');
    r.link.injectToB(dataFrame([{ k: 'send', to: remotePid(r.sink.pid), msg: { tag: 'injected' } }]));
    r.send('m2');
    await until(() => r.sink.got.length === 3, 3000, 'three messages');
    expect([...r.sink.got].sort()).toEqual(['injected', 'm1', 'm2']);
    expect(r.b.t.isConnected('a@local')).toBe(true);
  });

  it('the default is aes-256-gcm, and a connection says which it uses', async () => {
    const r = await relayed();
    expect(r.a.t.peer('b@local')?.frameAuth).toBe('aes-256-gcm');
    expect(resolveOptions({}).frameAuth).toBe('aes-256-gcm');
    expect(() => resolveOptions({ frameAuth: 'rot13' as never })).toThrow(/frameAuth must be one of 'aes-256-gcm', 'none'/);
  });

  it('a mismatch is refused by the handshake with a clear error, both ways (4021)', async () => {
    const sealed = await c.start('a@local');
    const open = await c.start('b@local', { frameAuth: 'none' });
    for (const [from, to] of [[sealed, open], [open, sealed]] as const) {
      const err = await from.t.connect(to.t.url).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(HandshakeError);
      expect((err as HandshakeError).reason).toBe('frame_auth_mismatch');
      expect((err as HandshakeError).message).toMatch(/code 4021.*both ends must set the same/);
    }
    // The acceptor says what differs (later refusals of the same kind wait for the next log interval).
    const line = await open.log.wait((l) => l.data?.reason === 'frame_auth_mismatch' && l.level === 'warn' && l.data?.role === 'acceptor');
    expect(String(line.data?.detail)).toMatch(/peer a@local uses frameAuth 'aes-256-gcm', this node 'none'/);
    expect(sealed.t.isConnected('b@local')).toBe(false);
    expect(CloseReason.frame_auth_mismatch).toBe(4021);
  });
});

describe('protocol 5: an older peer gets a clear refusal', () => {
  it('a protocol 4 HELLO (no frameAuth) is closed with version_mismatch, and the log says to upgrade', async () => {
    const b = await c.start('b@local');
    const r = await RawPeer.connect(b.t.url);
    raws.push(r);
    await r.handshake('old@local', COOKIE, (h) => ({ ...h, version: 4, frameAuth: null }));
    expect(await r.closed).toEqual({ code: CloseReason.version_mismatch, reason: 'version_mismatch' });
    const line = await b.log.wait((l) => l.data?.reason === 'version_mismatch');
    expect(String(line.data?.detail)).toMatch(/chose version 4; this node speaks 5\.\.5 \(protocol 5 authenticates every frame/);
  });

  it('dialling a protocol 4 node fails with version_mismatch naming the upgrade', async () => {
    const a = await c.start('a@local');
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    wss.on('connection', (ws) =>
      ws.send(encodeHandshake({ t: 'challenge', minVersion: 4, maxVersion: 4, name: 'old@local', creation: 1, nonce: Buffer.alloc(32, 9) })),
    );
    try {
      const err = await a.t.connect(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HandshakeError);
      expect((err as HandshakeError).reason).toBe('version_mismatch');
      expect((err as HandshakeError).message).toMatch(/speaks 4\.\.4; this node 5\.\.5 \(protocol 5 authenticates every frame/);
    } finally {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
    }
  });
});
