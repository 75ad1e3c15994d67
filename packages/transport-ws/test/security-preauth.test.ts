import { afterEach, describe, expect, it } from 'vitest';
import { connect as tcpConnect, type Socket } from 'node:net';
import { WebSocket } from 'ws';
import { CloseReason } from '../src/index.js';
import { COOKIE, Cluster, withTimeout, type TestNode } from './helpers.js';
import type { HelloMsg } from '../src/handshake/messages.js';
import { RawPeer } from './raw-peer.js';

const c = new Cluster();
const opened: { close(): void }[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) s.close();
  await c.closeAll();
});
const WRONG = 'a-wrong-cookie-but-long-enough-Zq83kLp0';
const portOf = (n: TestNode): number => Number(new URL(n.t.url).port);

/** A socket that upgrades to WebSocket and then says nothing. */
function mute(url: string): { ws: WebSocket; closed: Promise<number> } {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  ws.on('error', () => {});
  opened.push({ close: () => ws.terminate() });
  return { ws, closed: new Promise((r) => ws.on('close', (code) => r(code))) };
}

describe('before authentication: small frames, bounded sockets, short HTTP timeouts, one log line per interval', () => {
  it('a frame over handshakeMaxPayload before the handshake closes the socket (1009), an authenticated peer still sends 1 MiB', async () => {
    const a = await c.start('a@local');
    const r = await RawPeer.connect(a.t.url);
    opened.push(r);
    await r.nextHandshake();
    r.send(Buffer.alloc(64 * 1024, 7));
    expect((await withTimeout(r.closed, 3000, 'close')).code).toBe(1009);
    const b = await c.start('b@local');
    await b.t.connect(a.t.url);
    const got = new Promise<unknown>((resolve) => a.node.register('big', a.node.spawn({ handle: (m: unknown) => resolve(m) })));
    b.node.send({ name: 'big', node: 'a@local' }, 'x'.repeat(1024 * 1024));
    expect(((await withTimeout(got, 3000, 'big message')) as string).length).toBe(1024 * 1024);
  });

  it('1,000 sockets that never finish a handshake: at most maxPendingHandshakesPerAddress stay open, a peer with the cookie connects, one log line', async () => {
    const a = await c.start('a@local', { maxPendingHandshakes: 100, maxPendingHandshakesPerAddress: 50 });
    const socks = Array.from({ length: 1000 }, () => mute(a.t.url));
    await Promise.all(socks.map((s) => new Promise<void>((resolve) => {
      s.ws.once('open', () => resolve());
      s.ws.once('close', () => resolve());
    })));
    const b = await c.start('b@local');
    await b.t.connect(a.t.url);
    expect(a.t.nodes('connected')).toEqual(['b@local']);
    const open = socks.filter((s) => s.ws.readyState === WebSocket.OPEN).length;
    expect(open).toBeLessThanOrEqual(50);
    expect(a.log.lines.filter((l) => /oldest closed/.test(l.msg))).toHaveLength(1);
  });

  it('a half-open HTTP request on the mesh port is dropped after httpRequestTimeoutMs', async () => {
    const a = await c.start('a@local', { httpRequestTimeoutMs: 300 });
    const s: Socket = tcpConnect(portOf(a), '127.0.0.1');
    opened.push({ close: () => s.destroy() });
    s.on('error', () => {});
    s.resume(); // read the 408, so its end closes the socket here
    await new Promise<void>((r) => s.once('connect', () => r()));
    s.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n'); // headers never finished
    await withTimeout(new Promise<void>((r) => s.once('close', () => r())), 5000, 'half-open request dropped');
  });

  it('6 wrong cookies from one address: one handshake-failure log line in the interval, and the right cookie still connects', async () => {
    const a = await c.start('a@local', { rateLimit: { maxFailures: 2, windowMs: 60_000 } });
    const bad = await c.start('x@local', { cookie: WRONG });
    for (let i = 0; i < 6; i++) await expect(bad.t.connect(a.t.url)).rejects.toMatchObject({ reason: 'bad_cookie' });
    expect(a.log.lines.filter((l) => l.msg === 'transport-ws: handshake failed, connection closed')).toHaveLength(1);
    const good = await c.start('g@local');
    await good.t.connect(a.t.url);
    expect(a.t.nodes('connected')).toContain('g@local');
  });

  it('stalled sockets are not failed guesses: after 15 setup timeouts a wrong cookie still gets bad_cookie, not a refusal', async () => {
    const a = await c.start('a@local', { setupTimeoutMs: 150, rateLimit: { maxFailures: 3, windowMs: 60_000 } });
    const stalled = Array.from({ length: 15 }, () => mute(a.t.url));
    expect(await Promise.all(stalled.map((s) => withTimeout(s.closed, 3000, 'stalled')))).toEqual(Array(15).fill(CloseReason.setup_timeout));
    const bad = await c.start('x@local', { cookie: WRONG });
    await expect(bad.t.connect(a.t.url)).rejects.toMatchObject({ reason: 'bad_cookie' });
  });
});

describe('handshake: close codes as documented, proofs bind what each side says of itself', () => {
  it('a HELLO with an invalid node name closes with invalid_name (4009)', async () => {
    const a = await c.start('a@local');
    const r = await RawPeer.connect(a.t.url);
    opened.push(r);
    await r.handshake('evil@local', COOKIE, (h) => ({ ...h, name: 'no host' }));
    expect(await r.closed).toEqual({ code: CloseReason.invalid_name, reason: 'invalid_name' });
  });

  it('the CHALLENGE tells a peer without the cookie versions, name, creation and a nonce, not hidden', async () => {
    const a = await c.start('a@local', { hidden: true });
    const r = await RawPeer.connect(a.t.url);
    opened.push(r);
    const ch = await r.nextHandshake();
    expect(Object.keys(ch).sort()).toEqual(['creation', 'maxVersion', 'minVersion', 'name', 'nonce', 't']);
  });

  it('a relay that rewrites HELLO\'s hidden flag or url is refused with bad_cookie', async () => {
    const a = await c.start('a@local');
    for (const tamper of [(h: HelloMsg): HelloMsg => ({ ...h, hidden: !h.hidden }), (h: HelloMsg): HelloMsg => ({ ...h, url: 'ws://10.9.9.9:1' })]) {
      const r = await RawPeer.connect(a.t.url);
      opened.push(r);
      await r.handshake(`x${opened.length}@local`, COOKIE, tamper);
      expect((await r.closed).code).toBe(CloseReason.bad_cookie);
    }
  });
});
