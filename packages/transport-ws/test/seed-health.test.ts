import { afterEach, describe, expect, it } from 'vitest';
import { StaticSeeds } from '../src/index.js';
import { Cluster, withTimeout } from './helpers.js';

const c = new Cluster();
afterEach(() => c.closeAll());

const OTHER_COOKIE = 'a-different-cookie-0123456789abcdef';

/** Resolves once `f()` holds, checked on each discovery event; bounded. */
async function whenHealth(t: { health(): { status: string } }, status: string): Promise<void> {
  await withTimeout(
    (async () => {
      while (t.health().status !== status) await new Promise((r) => setTimeout(r, 10));
    })(),
    3000,
    `health ${status}`,
  );
}

describe('a node whose seeds refuse its cookie', () => {
  it('logs one error line naming the seed and the reason, and its health is unreachable', async () => {
    const seed = await c.start('seed@local', { cookie: OTHER_COOKIE });
    const a = await c.start('a@local', { discovery: [new StaticSeeds([seed.t.url], { intervalMs: 20 })], discoveryOptions: { initialMs: 10, maxMs: 20 } });
    expect(a.t.health().status).toBe('healthy'); // nothing tried yet
    const line = await a.log.wait((l) => l.level === 'error' && l.msg === 'discovery: a seed refused this node');
    expect(line.data).toMatchObject({ url: seed.t.url, reason: 'bad_cookie', strategy: 'static_seeds' });
    await whenHealth(a.t, 'unreachable');
    expect(a.t.health()).toEqual({ status: 'unreachable', reasons: [`${seed.t.url}: refused (bad_cookie)`] });
    // Retries go on (a fixed cookie may be deployed to the seed), but the error is not repeated.
    await a.log.wait((l) => l.level === 'warn' && l.msg === 'discovery: connect failed, will retry' && l.data?.['url'] === seed.t.url);
    expect(a.log.lines.filter((l) => l.level === 'error')).toHaveLength(1);
  });

  it('with one good seed and one that refuses, health is degraded with the reason; healthy once only good seeds remain', async () => {
    const good = await c.start('good@local');
    const bad = await c.start('bad@local', { cookie: OTHER_COOKIE });
    const a = await c.start('a@local', { discovery: [new StaticSeeds([good.t.url, bad.t.url], { intervalMs: 20 })], discoveryOptions: { initialMs: 10, maxMs: 20 } });
    await a.t.waitFor('good@local', 3000);
    await whenHealth(a.t, 'degraded');
    expect(a.t.health().reasons).toEqual([`${bad.t.url}: refused (bad_cookie)`]);
  });

  it('a node with no seeds (the first of a cluster) is healthy', async () => {
    const a = await c.start('a@local');
    expect(a.t.health()).toEqual({ status: 'healthy', reasons: [] });
  });
});
