// The observer's HTTP rules without a browser: bounds and refusals.
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startObserver, type Observer } from '../src/index.js';
import { startMembers, type Member } from './fixture.js';

let members: Member[];
let stop: () => Promise<void>;
let obs: Observer;
let port: string;

beforeAll(async () => {
  const c = await startMembers(['h1']);
  members = c.members;
  stop = c.stop;
  obs = await startObserver({ join: [members[0]!.transport.url], cookie: c.cookie });
  port = new URL(obs.url).port;
}, 30_000);

afterAll(async () => {
  await obs?.close();
  await stop?.();
});

function send(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port, path, method, headers: { authorization: `Bearer ${obs.token}`, ...headers } }, (res) => {
      let b = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (b += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
    });
    r.on('error', reject);
    r.end(body);
  });
}

const json = { 'content-type': 'application/json' };
const echoPid = (): string => members[0]!.node.whereis('echo')!.toString();

it('refuses oversized, non-object and malformed bodies, unknown routes and methods', async () => {
  expect((await send('POST', '/api/nodes/h1@127.0.0.1/kill', JSON.stringify({ pid: echoPid(), reason: 'x'.repeat(5000) }), json)).status).toBe(413);
  expect((await send('POST', '/api/nodes/h1@127.0.0.1/kill', '{not json', json)).status).toBe(400);
  expect((await send('POST', '/api/nodes/h1@127.0.0.1/kill', '[1,2]', json)).status).toBe(400);
  expect((await send('GET', '/api/nodes/%E0%A4%A/processes')).status).toBe(400);
  expect((await send('GET', '/api/nope')).status).toBe(404);
  expect((await send('DELETE', '/api/cluster')).status).toBe(405);
  expect((await send('PUT', '/')).status).toBe(405);
  expect(members[0]!.node.whereis('echo')).toBeDefined();
});

it('passes the node\'s refusal on: an empty kill reason or a foreign pid kills nothing', async () => {
  const before = echoPid();
  const empty = await send('POST', '/api/nodes/h1@127.0.0.1/kill', JSON.stringify({ pid: before, reason: '' }), json);
  expect(empty.status).toBe(502);
  expect(empty.body).toMatch(/reason must be a string/);
  const foreign = await send('POST', '/api/nodes/h1@127.0.0.1/kill', JSON.stringify({ pid: '<other@x.1.1>', reason: 'r' }), json);
  expect(foreign.status).toBe(502);
  expect(foreign.body).toMatch(/not a process of h1@127\.0\.0\.1/);
  expect(echoPid()).toBe(before);
});

it('asks only nodes it is connected to', async () => {
  const r = await send('GET', '/api/nodes/ghost@127.0.0.1/processes');
  expect(r.status).toBe(404);
  expect(r.body).toMatch(/not connected to node/);
});

it('holds at most 16 live streams; the 17th is refused with 503', async () => {
  const open: { req: ClientRequest; res: IncomingMessage }[] = [];
  const stream = (): Promise<{ req: ClientRequest; res: IncomingMessage }> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: `/live?token=${obs.token}` }, (res) => resolve({ req, res }));
      req.on('error', reject);
      req.end();
    });
  try {
    for (let i = 0; i < 16; i++) {
      const s = await stream();
      open.push(s);
      expect(s.res.statusCode).toBe(200);
      expect(s.res.headers['content-type']).toMatch(/^text\/event-stream/);
    }
    const extra = await stream();
    open.push(extra);
    expect(extra.res.statusCode).toBe(503);
  } finally {
    for (const s of open) s.req.destroy();
  }
});
