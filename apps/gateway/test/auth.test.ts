/**
 * Item: the gateway is not open to the network or to any web page. Real
 * sockets on 127.0.0.1: the mesh between two nodes (WsTransport) and HTTP.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, startGateway, type Gateway } from '../src/index.js';
import { httpRaw, rpcBody } from './raw-http.js';
import { startWsPair, type WsPair } from './ws-pair.js';

let pair: WsPair;
let dir: string;
const JSON_CT = { 'content-type': 'application/json' };

beforeAll(async () => {
  pair = await startWsPair();
  dir = mkdtempSync(join(tmpdir(), 'troupe-gw-auth-'));
});

afterAll(async () => {
  await pair?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function withGateway<T>(opts: Omit<Parameters<typeof startGateway>[0], 'services'>, f: (g: Gateway, base: string) => Promise<T>): Promise<T> {
  const g = await startGateway({ services: pair.sa, ...opts });
  try {
    return await f(g, `http://127.0.0.1:${g.port}`);
  } finally {
    await g.close();
  }
}

const post = (base: string, method: string, params: Record<string, unknown>, headers: Record<string, string> = {}) =>
  httpRaw(base, '/a2a', { method: 'POST', headers: { ...JSON_CT, ...headers }, body: rpcBody(method, params) });

describe('a bearer token for every state-changing method beyond loopback', () => {
  it('bound to 0.0.0.0: a token is generated into the token file (0600, 256 bits); StartAgent, SendMessage, ProcessNext and StopAgent need it, reads do not', async () => {
    const file = join(dir, 'generated.token');
    await withGateway({ host: '0.0.0.0', tokenFile: file }, async (g, base) => {
      expect(g.tokenRequired).toBe(true);
      const token = readFileSync(file, 'utf8').trim();
      expect(Buffer.from(token, 'base64url').length).toBeGreaterThanOrEqual(32);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const name = pair.nameOn(pair.b, 'guarded');
      const auth = { authorization: `Bearer ${token}` };

      for (const [method, params] of [
        ['StartAgent', { name }],
        ['SendMessage', { agent: name, action: 'echo', params: { text: 'x' } }],
        ['ProcessNext', { agent: name }],
        ['StopAgent', { agent: name }],
      ] as const) {
        for (const headers of [{}, { authorization: 'Bearer wrong-token-wrong-token-wrong-token' }, { authorization: token }] as Record<string, string>[]) {
          const r = await post(base, method, params, headers);
          expect(r.status, `${method} ${JSON.stringify(headers)}`).toBe(401);
          expect(r.headers['www-authenticate']).toMatch(/^Bearer/);
          expect(r.json?.error).toMatchObject({ code: ErrorCode.Unauthorized });
          expect(r.json?.id).toBe(1);
        }
      }
      expect(pair.sa.listAgents().some((x) => x.name === name)).toBe(false); // nothing ran

      expect((await post(base, 'StartAgent', { name }, auth)).json?.result).toMatchObject({ name, status: 'started' });
      expect((await post(base, 'SendMessage', { agent: name, action: 'echo', params: { text: 'x' } }, auth)).json?.result).toMatchObject({ status: 'queued' });
      // Reads stay open (they change nothing): the state, the list, the cluster.
      expect((await post(base, 'GetAgentState', { agent: name })).json?.result).toMatchObject({ name, processed: 0 });
      expect((await post(base, 'ListAgents', {})).status).toBe(200);
      expect((await post(base, 'GetClusterInfo', {})).json?.result).toMatchObject({ self: pair.a.name });
      expect((await post(base, 'ProcessNext', { agent: name }, auth)).json?.result).toMatchObject({ status: 'processed', result: 'x' });
      expect((await post(base, 'StopAgent', { agent: name }, auth)).json?.result).toMatchObject({ status: 'stopped' });
    });
    // The same file next time: the token survives restarts.
    const before = readFileSync(file, 'utf8');
    await withGateway({ host: '0.0.0.0', tokenFile: file }, async () => {
      expect(readFileSync(file, 'utf8')).toBe(before);
    });
  });

  it('the token can come from TROUPE_GATEWAY_TOKEN; a token under 32 characters is refused at start', async () => {
    const token = 'env-token-0123456789-0123456789-abcdef';
    const prev = process.env['TROUPE_GATEWAY_TOKEN'];
    process.env['TROUPE_GATEWAY_TOKEN'] = token;
    try {
      await withGateway({ host: '0.0.0.0', tokenFile: join(dir, 'unused.token') }, async (_g, base) => {
        expect((await post(base, 'StartAgent', { name: 'env-token-agent' })).status).toBe(401);
        const ok = await post(base, 'StartAgent', { name: 'env-token-agent' }, { authorization: `Bearer ${token}` });
        expect(ok.json?.result).toMatchObject({ status: 'started' });
        expect((await post(base, 'StopAgent', { agent: 'env-token-agent' }, { authorization: `bearer ${token}` })).json?.result).toMatchObject({ status: 'stopped' });
      });
    } finally {
      if (prev === undefined) delete process.env['TROUPE_GATEWAY_TOKEN'];
      else process.env['TROUPE_GATEWAY_TOKEN'] = prev;
    }
    await expect(startGateway({ services: pair.sa, host: '0.0.0.0', token: 'secret' })).rejects.toThrow(/at least 32/);
  });

  it('on loopback no token is asked unless one is configured; then it is required there too', async () => {
    await withGateway({}, async (g, base) => {
      expect(g.tokenRequired).toBe(false);
      expect((await post(base, 'StartAgent', { name: 'loopback-open' })).json?.result).toMatchObject({ status: 'started' });
      expect((await post(base, 'StopAgent', { agent: 'loopback-open' })).json?.result).toMatchObject({ status: 'stopped' });
    });
    const token = 'T'.repeat(40);
    await withGateway({ token }, async (g, base) => {
      expect(g.tokenRequired).toBe(true);
      expect((await post(base, 'StartAgent', { name: 'loopback-closed' })).status).toBe(401);
      expect((await post(base, 'StartAgent', { name: 'loopback-closed' }, { authorization: `Bearer ${token}` })).json?.result).toMatchObject({ status: 'started' });
      expect((await post(base, 'StopAgent', { agent: 'loopback-closed' }, { authorization: `Bearer ${token}` })).status).toBe(200);
    });
  });
});

describe('web pages and DNS rebinding', () => {
  let g: Gateway;
  let base: string;
  beforeAll(async () => {
    g = await startGateway({ services: pair.sa, allowedHosts: ['gateway.internal'] });
    base = `http://127.0.0.1:${g.port}`;
  });
  afterAll(() => g?.close());

  it("a cross-origin text/plain POST (a 'simple' request any page may send) is refused with 415 and runs nothing", async () => {
    const name = pair.nameOn(pair.b, 'csrf-target');
    expect((await post(base, 'StartAgent', { name })).json?.result).toMatchObject({ status: 'started' });
    for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', undefined]) {
      const headers: Record<string, string> = { origin: 'http://evil.example' };
      if (ct !== undefined) headers['content-type'] = ct;
      const r = await httpRaw(base, '/a2a', { method: 'POST', headers, body: rpcBody('StopAgent', { agent: name }) });
      expect(r.status, String(ct)).toBeGreaterThanOrEqual(400);
      expect(r.json?.error).toBeDefined();
    }
    // Without an Origin (curl, a script) the content type alone decides: 415.
    const plain = await httpRaw(base, '/a2a', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: rpcBody('StopAgent', { agent: name }) });
    expect(plain.status).toBe(415);
    expect(plain.json?.error).toMatchObject({ code: ErrorCode.InvalidRequest });
    expect(pair.sa.listAgents().some((x) => x.name === name)).toBe(true); // still running
    expect((await post(base, 'StopAgent', { agent: name }, { 'content-type': 'application/json; charset=utf-8' })).json?.result).toMatchObject({ status: 'stopped' });
  });

  it("an Origin other than the gateway's own is refused with 403 on every path, even with application/json", async () => {
    for (const origin of ['http://evil.example', 'null', `http://127.0.0.1:${g.port + 1}`, 'https://127.0.0.1']) {
      const r = await post(base, 'StartAgent', { name: 'from-a-page' }, { origin });
      expect(r.status, origin).toBe(403);
      expect((await httpRaw(base, '/events', { headers: { origin } })).status).toBe(403);
      expect((await httpRaw(base, '/health', { headers: { origin } })).status).toBe(403);
    }
    expect(pair.sa.listAgents().some((x) => x.name === 'from-a-page')).toBe(false);
    // Its own origin is fine (a same-origin request).
    expect((await post(base, 'ListAgents', {}, { origin: `http://127.0.0.1:${g.port}` })).status).toBe(200);
  });

  it('a Host naming another site (DNS rebinding) is refused with 403; IP literals, localhost and allowedHosts pass', async () => {
    for (const host of [`evil.example:${g.port}`, 'evil.example', `attacker.localhost.evil:${g.port}`]) {
      expect((await post(base, 'StartAgent', { name: 'rebound' }, { host })).status, host).toBe(403);
      expect((await httpRaw(base, '/events', { headers: { host } })).status).toBe(403);
      expect((await httpRaw(base, '/.well-known/agent.json', { headers: { host } })).status).toBe(403);
    }
    expect(pair.sa.listAgents().some((x) => x.name === 'rebound')).toBe(false);
    for (const host of [`127.0.0.1:${g.port}`, `localhost:${g.port}`, `[::1]:${g.port}`, `10.1.2.3:${g.port}`, `gateway.internal:${g.port}`, `GATEWAY.internal`]) {
      expect((await httpRaw(base, '/health', { headers: { host } })).status, host).toBe(200);
    }
  });
});
