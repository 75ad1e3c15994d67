import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HandshakeError, CloseReason, resolveCookie, CookieError } from '../src/index.js';
import { COOKIE, Cluster, withTimeout } from './helpers.js';
import { RawPeer } from './raw-peer.js';

const c = new Cluster();
const raws: RawPeer[] = [];
afterEach(async () => {
  for (const r of raws.splice(0)) r.close();
  await c.closeAll();
});
async function raw(url: string): Promise<RawPeer> {
  const r = await RawPeer.connect(url);
  raws.push(r);
  return r;
}

describe('handshake over real sockets', () => {
  it('wrong cookie: both sides close with bad_cookie and log it; nobody is listed', async () => {
    const a = await c.start('a@local', { cookie: 'cookie-number-one-0123456789abcdefgh' });
    const b = await c.start('b@local', { cookie: 'cookie-number-two-0123456789abcdefgh' });
    const err = await a.t.connect(b.t.url).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HandshakeError);
    expect(err).toMatchObject({ code: 'TROUPE_ERR_HANDSHAKE', reason: 'bad_cookie' });
    const line = await b.log.wait((l) => l.data?.reason === 'bad_cookie');
    expect(line).toMatchObject({ level: 'warn', data: { role: 'acceptor', peer: 'a@local', remote: '127.0.0.1' } });
    expect(String(line.data?.detail)).toMatch(/invalid challenge reply/);
    await a.log.wait((l) => l.data?.reason === 'bad_cookie');
    expect(a.t.nodes('connected')).toEqual([]);
    expect(b.t.nodes('connected')).toEqual([]);
  });

  it('version mismatch closes with version_mismatch', async () => {
    const b = await c.start('b@local');
    const r = await raw(b.t.url);
    await r.handshake('x@local', COOKIE, (h) => ({ ...h, version: 99 }));
    expect(await r.closed).toEqual({ code: CloseReason.version_mismatch, reason: 'version_mismatch' });
    await b.log.wait((l) => l.data?.reason === 'version_mismatch' && l.level === 'warn');
  });

  it('a replayed hello is refused with replayed_nonce', async () => {
    const b = await c.start('b@local');
    const r1 = await raw(b.t.url);
    await r1.handshake('x@local', COOKIE);
    const captured = r1.hello!;
    r1.close();
    const r2 = await raw(b.t.url);
    await r2.nextHandshake();
    r2.send(captured);
    expect((await r2.closed).code).toBe(CloseReason.replayed_nonce);
    await b.log.wait((l) => l.data?.reason === 'replayed_nonce');
  });

  it('a client that says nothing is closed at the setup timeout', async () => {
    const b = await c.start('b@local', { setupTimeoutMs: 150 });
    const r = await raw(b.t.url);
    // The close code says the setup timer closed it; the 3 s bound only keeps a hang from stalling the run.
    expect((await withTimeout(r.closed, 3000, 'close')).code).toBe(CloseReason.setup_timeout);
    await b.log.wait((l) => l.data?.reason === 'setup_timeout');
  });

  it('wrong cookies from an address slow its later handshakes; the right cookie from it still connects', async () => {
    const b = await c.start('b@local', { rateLimit: { maxFailures: 2, windowMs: 60_000 } });
    const a = await c.start('a@local', { cookie: 'another-cookie-of-enough-length-Kq9' });
    for (let i = 0; i < 2; i++) await expect(a.t.connect(b.t.url)).rejects.toMatchObject({ reason: 'bad_cookie' });
    await b.log.wait((l) => /too many wrong cookies/.test(l.msg));
    const good = await c.start('g@local');
    await good.t.connect(b.t.url);
    await b.log.wait((l) => /are slowed/.test(l.msg));
    expect(b.t.nodes('connected')).toEqual(['g@local']);
  });

  it('a handshake timeout on the initiator side rejects connect', async () => {
    // A server that accepts the upgrade but never sends a challenge.
    const { WebSocketServer } = await import('ws');
    const mute = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => mute.once('listening', r));
    try {
      const a = await c.start('a@local', { setupTimeoutMs: 150 });
      const port = (mute.address() as { port: number }).port;
      await expect(a.t.connect(`ws://127.0.0.1:${port}`)).rejects.toMatchObject({ reason: 'setup_timeout' });
      await a.log.wait((l) => l.data?.reason === 'setup_timeout');
    } finally {
      for (const ws of mute.clients) ws.terminate();
      await new Promise((r) => mute.close(r));
    }
  });
});

describe('cookie source', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const tmp = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'troupe-cookie-'));
    dirs.push(d);
    return d;
  };

  it('option, else TROUPE_COOKIE, else the cookie file', () => {
    const file = join(tmp(), 'cookie');
    expect(resolveCookie({ cookie: 'opt', env: { TROUPE_COOKIE: 'env' }, cookieFile: file })).toBe('opt');
    expect(resolveCookie({ env: { TROUPE_COOKIE: 'env' }, cookieFile: file })).toBe('env');
    const created = resolveCookie({ env: {}, cookieFile: file });
    expect(created).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes
    expect(resolveCookie({ env: {}, cookieFile: file })).toBe(created);
    expect(resolveCookie({ env: { TROUPE_COOKIE_FILE: file } })).toBe(created);
  });

  it('the cookie file is created with mode 0600, 32 random bytes', () => {
    const file = join(tmp(), 'c2');
    const a = resolveCookie({ env: {}, cookieFile: file });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url')).toHaveLength(32);
    const other = resolveCookie({ env: {}, cookieFile: join(tmp(), 'c3') });
    expect(other).not.toBe(a);
  });

  it('a cookie file readable by others is refused', () => {
    const file = join(tmp(), 'open');
    writeFileSync(file, 'secret\n');
    chmodSync(file, 0o644);
    expect(() => resolveCookie({ env: {}, cookieFile: file })).toThrow(CookieError);
    chmodSync(file, 0o600);
    expect(resolveCookie({ env: {}, cookieFile: file })).toBe('secret');
  });

  it('two nodes sharing a cookie file connect', async () => {
    const file = join(tmp(), 'shared');
    const a = await c.start('a@local', { cookie: undefined, cookieFile: file });
    const b = await c.start('b@local', { cookie: undefined, cookieFile: file });
    expect(await a.t.connect(b.t.url)).toBe('b@local');
  });
});

describe('cookie strength', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('a cookie under 128 bits or a common word fails start with CookieError, unless allowInsecureCookie', async () => {
    for (const weak of ['secret', 'Secret123', 'a shared secret', 'short-cookie', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', '0123456789']) {
      await expect(c.start(`w${weak.length}@local`, { cookie: weak }), weak).rejects.toBeInstanceOf(CookieError);
    }
    const a = await c.start('a@local', { cookie: 'secret', allowInsecureCookie: true });
    const b = await c.start('b@local', { cookie: 'secret', allowInsecureCookie: true });
    await a.t.connect(b.t.url);
    expect(a.t.nodes('connected')).toEqual(['b@local']);
  });

  it('a weak cookie in the cookie file is refused too; a generated cookie file holds 256 random bits', async () => {
    const d = mkdtempSync(join(tmpdir(), 'troupe-cookie-'));
    dirs.push(d);
    const weakFile = join(d, 'weak');
    writeFileSync(weakFile, 'password\n', { mode: 0o600 });
    await expect(c.start('f@local', { cookie: undefined, cookieFile: weakFile })).rejects.toBeInstanceOf(CookieError);
    const gen = join(d, 'gen');
    const t = await c.start('g@local', { cookie: undefined, cookieFile: gen });
    expect(t.t.nodes('connected')).toEqual([]);
    expect(Buffer.from(readFileSync(gen, 'utf8').trim(), 'base64url')).toHaveLength(32);
  });
});
