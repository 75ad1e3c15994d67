import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { membersFrame } from '../src/frame-encoder.js';
import { COOKIE, Cluster, until } from './helpers.js';
import { RawPeer } from './raw-peer.js';

const c = new Cluster();
const cleanup: (() => void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) f();
  await c.closeAll();
});

/** A TCP listener that counts connections (and the most open at once), and drops each after a moment. */
async function sink(): Promise<{ port: number; total: () => number; maxOpen: () => number }> {
  let total = 0;
  let open = 0;
  let maxOpen = 0;
  const socks = new Set<Socket>();
  const server: Server = createServer((s) => {
    total++;
    open++;
    maxOpen = Math.max(maxOpen, open);
    socks.add(s);
    s.on('error', () => {});
    s.on('close', () => {
      open--;
      socks.delete(s);
    });
    setTimeout(() => s.destroy(), 20);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanup.push(() => {
    for (const s of socks) s.destroy();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, total: () => total, maxOpen: () => maxOpen };
}

describe('member announcements are bounded', () => {
  it('10,000 made-up members: at most maxPeers dialled, maxConcurrentDials at once, duplicates once, one log line', async () => {
    const s = await sink();
    const a = await c.start('a@local', { maxPeers: 20, maxConcurrentDials: 3 });
    const r = await RawPeer.connect(a.t.url);
    cleanup.push(() => r.close());
    await r.handshake('evil@local', COOKIE, undefined, { hidden: false, url: null });
    const fake = Array.from({ length: 9_990 }, (_, i) => ({ name: `n${String(i).padStart(5, '0')}@local`, url: `ws://127.0.0.1:${s.port}/${i}` }));
    // The first five, announced again: each is dialled once.
    r.send(membersFrame([...fake.slice(0, 5), ...fake.slice(0, 5), ...fake]));
    // 20 peers at most, the announcer being one of them.
    await until(() => s.total() === 19, 3000);
    await a.log.wait((l) => /over maxPeers ignored/.test(l.msg));
    await until(() => (a.t as unknown as { meshDialing: number }).meshDialing === 0, 5000);
    expect(s.total()).toBe(19);
    expect(s.maxOpen()).toBeLessThanOrEqual(3);
    expect(a.log.lines.filter((l) => /over maxPeers ignored/.test(l.msg))).toHaveLength(1);
    expect(a.log.lines.filter((l) => l.msg === 'transport-ws: mesh connect failed')).toHaveLength(1);
    expect(a.t.nodes('connected')).toEqual(['evil@local']);
  });
});
