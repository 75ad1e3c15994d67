import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Discovery, DnsPoll, InvalidUrlError, StaticSeeds, startDiscovery, type DiscoveryEvents, type DnsAnswer } from '../src/index.js';
import { Cluster, nextEvent, withTimeout } from './helpers.js';

const c = new Cluster();
const runners: Discovery[] = [];
afterEach(async () => {
  for (const r of runners.splice(0)) r.stop();
  await c.closeAll();
});

/** The next `event` from a discovery runner matching `pred`; bounded. */
function next<E extends keyof DiscoveryEvents>(d: Discovery, event: E, pred: (e: Parameters<DiscoveryEvents[E]>[0]) => boolean = () => true): Promise<Parameters<DiscoveryEvents[E]>[0]> {
  type Ev = Parameters<DiscoveryEvents[E]>[0];
  let h!: (e: Ev) => void;
  const p = new Promise<Ev>((resolve) => {
    h = (e: Ev) => {
      if (pred(e)) resolve(e);
    };
    (d as unknown as { on(e: string, f: (x: Ev) => void): void }).on(event, h);
  });
  return withTimeout(p, 3000, `discovery ${event}`).finally(() => (d as unknown as { off(e: string, f: (x: Ev) => void): void }).off(event, h));
}

/** A port on 127.0.0.1 nothing listens on (refuses connections). */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const portOf = (url: string): number => Number(new URL(url).port);

describe('discovery (libcluster-style strategies)', () => {
  it('StaticSeeds: started with the transport, connects to every seed (and the mesh), reconnects a dropped seed', async () => {
    const b = await c.start('b@local');
    const d = await c.start('d@local');
    const a = await c.start('a@local', { discovery: [new StaticSeeds([b.t.url, b.t.url], { intervalMs: 20 })] });
    await a.t.waitFor('b@local', 3000);
    await d.t.connect(b.t.url); // d joins b's mesh: a learns of it through b
    await a.t.waitFor('d@local', 3000);
    expect(a.t.discovery).not.toBeNull();
    const again = nextEvent(a.t, 'nodeup', (e) => e.node === 'b@local');
    a.t.disconnect('b@local');
    await again; // the next round dials the seed again
    await a.t.close();
    expect(a.t.discovery!.running).toBe(false);
  });

  it('StaticSeeds refuses a URL that is not ws:// or wss:// at construction', () => {
    expect(() => new StaticSeeds(['http://127.0.0.1:1'])).toThrow(InvalidUrlError);
    expect(() => new StaticSeeds(['not a url'])).toThrow(InvalidUrlError);
  });

  it('DnsPoll with a stub resolver: addresses appearing are connected; disappearing ones are forgotten', async () => {
    const a = await c.start('a@local');
    const b = await c.start('b@local');
    const d = await c.start('d@local');
    let answer: DnsAnswer[] = [];
    const asked: string[] = [];
    const dns = new DnsPoll({
      name: 'troupe.default.svc.cluster.local',
      port: 1, // overridden per answer: every node is on 127.0.0.1
      intervalMs: 20,
      resolve: async (name) => {
        asked.push(name);
        return answer;
      },
    });
    const run = startDiscovery(a.t, [dns], { jitter: 0 });
    runners.push(run);
    answer = [{ host: '127.0.0.1', port: portOf(b.t.url) }];
    expect(await next(run, 'connected')).toMatchObject({ strategy: 'dns_poll:troupe.default.svc.cluster.local', url: b.t.url, node: 'b@local' });
    answer = [{ host: '127.0.0.1', port: portOf(b.t.url) }, { host: '127.0.0.1', port: portOf(d.t.url) }];
    expect(await next(run, 'connected', (e) => e.node === 'd@local')).toMatchObject({ url: d.t.url });
    expect(asked.every((n) => n === 'troupe.default.svc.cluster.local')).toBe(true);
    answer = [{ host: '127.0.0.1', port: portOf(d.t.url) }];
    expect(await next(run, 'removed')).toEqual({ strategy: dns.name, url: b.t.url, node: 'b@local', disconnected: false });
    expect(a.t.isConnected('b@local')).toBe(true); // default: a live connection is kept
    expect(run.targets().map((t) => t.node)).toEqual(['d@local']);
  });

  it('DnsPoll disconnectRemoved: a node whose address disappears is disconnected', async () => {
    const a = await c.start('a@local');
    const b = await c.start('b@local');
    let answer: DnsAnswer[] = [{ host: '127.0.0.1', port: portOf(b.t.url) }];
    const run = startDiscovery(a.t, [new DnsPoll({ name: 'svc', port: 1, intervalMs: 20, disconnectRemoved: true, resolve: async () => answer })]);
    runners.push(run);
    await next(run, 'connected');
    const down = nextEvent(a.t, 'nodedown', (e) => e.node === 'b@local');
    answer = [];
    expect(await next(run, 'removed')).toMatchObject({ node: 'b@local', disconnected: true });
    expect((await down).reason).toBe('disconnect');
  });

  it('failures are logged and retried with backoff, never crash: a resolver that throws, an address that refuses', async () => {
    const a = await c.start('a@local');
    const b = await c.start('b@local');
    const dead = await deadPort();
    let mode: 'throw' | 'dead' | 'ok' = 'throw';
    const run = startDiscovery(
      a.t,
      [
        new DnsPoll({
          name: 'svc',
          port: 1,
          intervalMs: 10,
          resolve: async () => {
            if (mode === 'throw') throw Object.assign(new Error('queryA ESERVFAIL svc'), { code: 'ESERVFAIL' });
            const live: DnsAnswer[] = mode === 'ok' ? [{ host: '127.0.0.1', port: portOf(b.t.url) }] : [];
            return [{ host: '127.0.0.1', port: dead }, ...live];
          },
        }),
      ],
      { initialMs: 10, maxMs: 40, jitter: 0 },
    );
    runners.push(run);
    const f1 = await next(run, 'failed', (e) => e.url === null);
    expect(f1.error).toMatch(/ESERVFAIL/);
    await a.log.wait((l) => l.level === 'warn' && l.msg === 'discovery: lookup failed, will retry');
    mode = 'dead';
    const deadUrl = `ws://127.0.0.1:${dead}`;
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) delays.push((await next(run, 'failed', (e) => e.url === deadUrl)).retryInMs);
    expect(delays).toEqual([10, 20, 40, 40]); // doubling, capped
    await a.log.wait((l) => l.level === 'warn' && l.msg === 'discovery: connect failed, will retry' && l.data?.url === deadUrl);
    mode = 'ok';
    await next(run, 'connected', (e) => e.node === 'b@local');
    expect(run.running).toBe(true);
    expect(run.targets().find((t) => t.url === deadUrl)?.failures).toBeGreaterThanOrEqual(4);
  });
});
