import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalNodes, UdpGossip, defaultNodesDir } from '../src/index.js';
import { Cluster, withTimeout } from './helpers.js';

const c = new Cluster();
const dirs: string[] = [];
afterEach(async () => {
  await c.closeAll();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'troupe-nodes-'));
  dirs.push(d);
  return d;
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('LocalNodes: nodes on one host find each other through a per-user directory', () => {
  it('two nodes with only the directory connect; a closed node withdraws its entry', async () => {
    const dir = tempDir();
    const a = await c.start('a@local', { discovery: [new LocalNodes({ dir, intervalMs: 20 })] });
    const b = await c.start('b@local', { discovery: [new LocalNodes({ dir, intervalMs: 20 })] });
    await a.t.waitFor('b@local', 3000);
    await b.t.waitFor('a@local', 3000);
    expect(readdirSync(dir).sort()).toEqual([`${encodeURIComponent('a@local')}.json`, `${encodeURIComponent('b@local')}.json`]);
    await b.t.close();
    expect(readdirSync(dir)).toEqual([`${encodeURIComponent('a@local')}.json`]);
  });

  it('the entry of a node whose process is gone is forgotten (deleted, not dialled)', async () => {
    const dir = tempDir();
    const stale = join(dir, 'dead%40local.json');
    writeFileSync(stale, JSON.stringify({ v: 1, name: 'dead@local', url: 'ws://127.0.0.1:1', pid: deadPid(), host: hostname(), fp: 'x' }));
    const s = new LocalNodes({ dir, intervalMs: 20 });
    const a = await c.start('a@local', { discovery: [s] });
    await withTimeout(
      (async () => {
        while (existsSync(stale)) await new Promise((r) => setImmediate(r));
      })(),
      3000,
      'the stale entry to be removed',
    );
    expect(a.log.lines.some((l) => l.msg === 'discovery: local entry of a node that is gone, forgotten' && l.data?.['node'] === 'dead@local')).toBe(true);
    expect(a.log.lines.some((l) => l.msg.startsWith('discovery: connect failed'))).toBe(false);
  });

  it('a node with another cookie is skipped, not dialled into a handshake failure', async () => {
    const dir = tempDir();
    const a = await c.start('a@local', { discovery: [new LocalNodes({ dir, intervalMs: 20 })] });
    const other = new LocalNodes({ dir, intervalMs: 20 });
    const b = await c.start('b@local', { cookie: 'another-cookie-0123456789abcdef', discovery: [other] });
    // Two rounds of b's strategy see a's entry and skip it.
    expect(other.targets()).toEqual([]);
    expect(a.t.nodes()).toEqual([]);
    expect(b.log.lines.some((l) => l.msg.includes('handshake failed'))).toBe(false);
  });

  it('the directory defaults to TROUPE_NODES_DIR, else ~/.troupe/nodes', () => {
    expect(defaultNodesDir({ TROUPE_NODES_DIR: '/tmp/x' })).toBe('/tmp/x');
    expect(defaultNodesDir({})).toMatch(/[/\\]\.troupe[/\\]nodes$/);
  });
});

describe('UdpGossip: LAN discovery by multicast (tested on the loopback only)', () => {
  const port = 40000 + Math.floor(Math.random() * 20000);
  const gossip = (): UdpGossip => new UdpGossip({ address: '239.255.42.99', port, interface: '127.0.0.1', ttl: 0, intervalMs: 50 });

  it('two nodes announcing on the group connect; a node with another cookie is not dialled; silence forgets', async () => {
    const a = await c.start('a@local', { discovery: [gossip()] });
    const gb = gossip();
    const b = await c.start('b@local', { discovery: [gb] });
    await a.t.waitFor('b@local', 3000);
    await b.t.waitFor('a@local', 3000);
    const x = await c.start('x@local', { cookie: 'another-cookie-0123456789abcdef', discovery: [gossip()] });
    await a.t.close();
    // a is silent now: b forgets it after expireMs (3 intervals), and never heard x (another cookie).
    await withTimeout(
      (async () => {
        while (gb.targets().length > 0) await new Promise((r) => setTimeout(r, 20));
      })(),
      3000,
      'b to forget a',
    );
    expect(x.t.nodes()).toEqual([]);
  });
});
