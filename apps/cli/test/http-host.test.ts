/**
 * `--http-host`: the gateway's interface, apart from the mesh's `--host`.
 * `--host` opening the mesh to the network no longer opens StartAgent /
 * StopAgent with it; an HTTP listener beyond loopback asks for the token.
 * Real `troupe node` processes, sockets on 127.0.0.1.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../src/args.js';
import { killAll, startCli, within } from './cli-process.js';

afterEach(() => killAll());
const dir = mkdtempSync(join(tmpdir(), 'troupe-cli-http-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const env = { TROUPE_COOKIE: randomBytes(32).toString('hex') };

const rpc = (base: string, method: string, params: Record<string, unknown>, headers: Record<string, string> = {}) =>
  fetch(`${base}/a2a`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });

it('parses --http-host and --http-token-file (absent unless given; empty is a usage error)', () => {
  const plain = parseArgs(['node', '--name', 'a', '--host', '10.0.0.5']);
  expect(plain.cmd === 'node' && plain.opts.httpHost).toBeUndefined();
  const given = parseArgs(['node', '--name', 'a', '--http-host', '0.0.0.0', '--http-token-file=/run/tok']);
  expect(given.cmd === 'node' && [given.opts.httpHost, given.opts.httpTokenFile]).toEqual(['0.0.0.0', '/run/tok']);
  expect(() => parseArgs(['node', '--name', 'a', '--http-host', ''])).toThrow(UsageError);
});

it('troupe node --host 0.0.0.0: the mesh listens beyond loopback, HTTP stays on 127.0.0.1 and asks no token', async () => {
  const p = startCli(['node', '--name', 'wide@127.0.0.1', '--host', '0.0.0.0', '--port', '0', '--dist-port', '0'], env);
  const ready = await p.waitLine(/ ready wide@127\.0\.0\.1 /, 20_000);
  expect(ready).toMatch(/ mesh=ws:\/\/0\.0\.0\.0:\d+ /);
  const http = /http=(http:\/\/\S+)/.exec(ready)![1]!;
  expect(http).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect((await (await rpc(http, 'StartAgent', { name: 'w1' })).json()) as object).toMatchObject({ result: { status: 'started' } });
  p.child.kill('SIGTERM');
  expect((await within(p.exited, 12_000, 'exit')).code).toBe(0);
});

it('troupe node --http-host 0.0.0.0 --http-token-file F: the token is generated into F, printed where it is, and required', async () => {
  const file = join(dir, 'gw.token');
  const p = startCli(['node', '--name', 'open@127.0.0.1', '--port', '0', '--dist-port', '0', '--http-host', '0.0.0.0', '--http-token-file', file], env);
  const ready = await p.waitLine(/ ready open@127\.0\.0\.1 /, 20_000);
  const port = /http=http:\/\/0\.0\.0\.0:(\d+)/.exec(ready)![1]!;
  expect(p.lines.some((l) => l.includes('gateway listening') && l.includes(`from ${file} (generated now)`))).toBe(true);
  const token = readFileSync(file, 'utf8').trim();
  expect(p.lines.some((l) => l.includes(token))).toBe(false); // where it is, never the secret itself
  const base = `http://127.0.0.1:${port}`;
  const refused = await rpc(base, 'StartAgent', { name: 'o1' });
  expect(refused.status).toBe(401);
  const ok = await rpc(base, 'StartAgent', { name: 'o1' }, { authorization: `Bearer ${token}` });
  expect(((await ok.json()) as { result?: unknown }).result).toMatchObject({ status: 'started' });
  p.child.kill('SIGTERM');
  expect((await within(p.exited, 12_000, 'exit')).code).toBe(0);
});
