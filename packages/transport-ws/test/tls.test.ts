import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pid } from '@troupe/actor-core';
import { ConnectError } from '../src/index.js';
import { Cluster, probe } from './helpers.js';

const c = new Cluster();
afterEach(() => c.closeAll());
let dir = '';
let cert = Buffer.alloc(0);
let key = Buffer.alloc(0);
let noCertificate: Error | null = null;

describe('wss:// with user-supplied certificates', () => {
  beforeAll(() => {
    // A self-signed certificate for 127.0.0.1, made for this test run. It needs
    // the `openssl` command (.ci/run installs it): without it every test here
    // fails (beforeEach below), never skips.
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' });
    } catch (e) {
      noCertificate = new Error(`the TLS tests need the openssl command to make their certificate (apt-get install openssl): ${String(e)}`);
      return;
    }
    dir = mkdtempSync(join(tmpdir(), 'troupe-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      '-subj', '/CN=troupe-test', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ], { stdio: 'ignore' });
    cert = readFileSync(join(dir, 'cert.pem'));
    key = readFileSync(join(dir, 'key.pem'));
  });
  beforeEach(() => {
    if (noCertificate !== null) throw noCertificate;
  });
  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('two nodes handshake and exchange messages over wss://', async () => {
    const a = await c.start('a@local', { tls: { cert, key, ca: cert } });
    const b = await c.start('b@local', { tls: { cert, key, ca: cert } });
    expect(b.t.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    expect(await a.t.connect(b.t.url)).toBe('b@local');
    const pb = await probe(b.node);
    a.node.send(new Pid(pb.pid.node, pb.pid.id, pb.pid.creation), 'over tls');
    expect(await pb.next()).toBe('over tls');
  });

  it('a peer whose certificate is not trusted is refused', async () => {
    const a = await c.start('a@local', { tls: { cert, key } }); // no ca: Node's roots only
    const b = await c.start('b@local', { tls: { cert, key, ca: cert } });
    const err = await a.t.connect(b.t.url).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as Error).message).toMatch(/self.signed|certificate/i);
    expect(b.t.nodes('connected')).toEqual([]);
  });

  it('a plain ws:// node cannot talk to a wss:// node', async () => {
    const a = await c.start('a@local');
    const b = await c.start('b@local', { tls: { cert, key, ca: cert } });
    await expect(a.t.connect(b.t.url.replace('wss:', 'ws:'))).rejects.toBeInstanceOf(Error);
  });
});
