// The observer in a real browser (headless Debian chromium): a 3-node
// cluster on 127.0.0.1, the observer joined to one member as a hidden node.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'puppeteer-core';
import { GenServer, type Pid } from '@troupe/actor-core';
import { startObserver, type Observer } from '../src/index.js';
import { startMembers, type Member } from './fixture.js';
import { ARTIFACTS, launchChromium } from './browser.js';

let members: Member[];
let stopMembers: () => Promise<void>;
let observer: Observer;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let browser: Browser;
let page: Page;

const names = ['a@127.0.0.1', 'b@127.0.0.1', 'c@127.0.0.1'];
const shot = (name: string): Promise<unknown> => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
const text = (sel: string): Promise<string> => page.$eval(sel, (el) => (el as HTMLElement).innerText);

/** Waits (bounded) until the page's text at `sel` satisfies `ok`. */
async function waitText(sel: string, ok: (t: string) => boolean, what: string, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    last = await page.$eval(sel, (el) => (el as HTMLElement).innerText).catch(() => '');
    if (ok(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; ${sel} shows: ${last.slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  const c = await startMembers(['a', 'b', 'c']);
  members = c.members;
  stopMembers = c.stop;
  observer = await startObserver({ join: [members[0]!.transport.url], cookie: c.cookie, view: { intervalMs: 300 } });
  chromium = await launchChromium();
  browser = chromium.browser;
  page = await browser.newPage();
}, 60_000);

afterAll(async () => {
  await chromium?.close();
  await observer?.close();
  await stopMembers?.();
});

describe('observer in headless chromium', () => {
  it('the cluster page shows the three members live, with their links, and not the observer itself', async () => {
    await page.goto(observer.url);
    const all = await waitText('main', (t) => names.every((n) => t.includes(n)) && t.includes('3 of 3 nodes connected'), 'three connected nodes');
    expect(await page.$$eval('.card [data-state="up"]', (els) => els.length)).toBe(3);
    expect(all).not.toContain(observer.node.name);
    // Each member's links are the two others (the hidden observer is not a mesh link).
    const links = await page.$$eval('.card', (cards) => cards.map((c) => [c.getAttribute('data-node'), c.querySelector('[data-metric="links"]')?.textContent ?? '']));
    for (const [n, l] of links) expect(l!.split(', ').sort()).toEqual(names.filter((x) => x !== n));
    await waitText('#live', (t) => t === 'live', 'the live channel');
    await shot('cluster');
  });

  it('lists a node\'s processes, sorts and filters them, and opens a process page', async () => {
    await page.goto(`${observer.url}#/processes/b@127.0.0.1`);
    await waitText('#proc-table', (t) => t.includes('app_sup') && t.includes('echo'), 'the process table');
    await page.type('#proc-filter', 'gen_server');
    const filtered = await page.$$eval('#proc-table tbody tr', (rows) => rows.map((r) => r.textContent ?? ''));
    expect(filtered.length).toBe(1);
    expect(filtered[0]).toContain('echo');
    await page.$eval('#proc-filter', (el) => ((el as HTMLInputElement).value = ''));
    await page.type('#proc-filter', ' ');
    await page.click('th[data-sort="name"]');
    await page.click('th[data-sort="name"]');
    const sortedNames = await page.$$eval('#proc-table tbody tr td:nth-child(2)', (tds) => tds.map((t) => t.textContent ?? ''));
    expect(sortedNames.filter((n) => n !== '')).toEqual([...sortedNames.filter((n) => n !== '')].sort((x, y) => x.localeCompare(y, undefined, { numeric: true })));
    await shot('processes');
    await page.$eval('#proc-filter', (el) => ((el as HTMLInputElement).value = ''));
    await page.type('#proc-filter', 'echo');
    await page.click('#proc-table tbody tr');
    await waitText('#proc-detail', (t) => t.includes('gen_server'), 'the process page');
    expect(await text('[data-field="name"]')).toBe('echo');
    expect(await text('#proc-state')).toBe('{ calls: 0, last: null }');
    expect(await text('[data-field="links"]')).toBe(members[1]!.supervisor.toString());
  });

  it('traces the process: a call made to it shows up as an incoming message and its reply as outgoing', async () => {
    await page.click('#trace-toggle');
    await waitText('#proc-msg', (t) => t.startsWith('tracing'), 'the trace to start');
    const b = members[1]!.node;
    expect(await GenServer.call(b, 'echo', { hello: 'browser' })).toEqual({ echo: { hello: 'browser' } });
    const rows = await waitText('#trace-events', (t) => t.includes('hello') && t.includes('reply'), 'the traced messages');
    expect(rows).toMatch(/→ in\s.*"call".*hello: "browser"/);
    expect(rows).toMatch(/← out\s.*reply: \{ echo: \{ hello: "browser" \} \}/);
    await waitText('#proc-state', (t) => t.includes('calls: 1'), 'the state after the call');
    await shot('process-trace');
    await page.click('#trace-toggle');
    await waitText('#proc-msg', (t) => t === 'trace stopped', 'the trace to stop');
  });

  it('kills the process after a confirmation; its supervisor restarts it and the trees and events pages show it', async () => {
    const b = members[1]!.node;
    const before = b.whereis('echo') as Pid;
    await page.click('#kill');
    await page.waitForSelector('#kill-dialog[open]');
    await shot('kill-confirm');
    // Cancel first: nothing happens.
    await page.click('#kill-cancel');
    expect(b.whereis('echo')!.equals(before)).toBe(true);
    await page.click('#kill');
    await page.waitForSelector('#kill-dialog[open]');
    await page.$eval('#kill-reason', (el) => ((el as HTMLInputElement).value = ''));
    await page.type('#kill-reason', 'killed by the browser test');
    await page.click('#kill-confirm');
    await waitText('#proc-msg', (t) => t === 'killed with reason "killed by the browser test"', 'the kill');
    await waitText('#proc-detail', (t) => t.includes('not alive'), 'the process page to show the exit');
    const restarted = Date.now() + 10_000;
    while (b.whereis('echo') === undefined || b.whereis('echo')!.equals(before)) {
      if (Date.now() > restarted) throw new Error('echo was not restarted within 10 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    const after = b.whereis('echo');

    await page.goto(`${observer.url}#/trees/b@127.0.0.1`);
    // The restart count and new pid come from the tree; the recent restarts from the event log (polled separately).
    await waitText('#trees', (t) => t.includes('1 restarts') && t.includes(after!.toString()) && t.includes('killed by the browser test'), 'the tree with the restart');
    await shot('trees');

    await page.goto(`${observer.url}#/events`);
    await waitText('#event-rows', (t) => t.includes('restart') && t.includes('killed by the browser test'), 'the events');
    await page.select('#event-kind', 'crash');
    const kinds = await page.$$eval('#event-rows tr', (rows) => rows.map((r) => r.getAttribute('data-kind')));
    expect(kinds.length).toBeGreaterThan(0);
    expect(new Set(kinds)).toEqual(new Set(['crash']));
    await shot('events');
  });

  it('the services page shows every connected node\'s registry names and topics', async () => {
    await page.goto(`${observer.url}#/services`);
    const s = await waitText('#services', (t) => t.includes('echo-a') && t.includes('echo-b') && t.includes('echo-c'), 'the services');
    expect(s).toContain('news');
    await shot('services');
  });

  it('the token is required on every request and on the live channel; Host and Origin are checked', async () => {
    const base = observer.url.split('?')[0]!;
    const auth = { authorization: `Bearer ${observer.token}` };
    for (const p of ['', 'static/app.js', 'api/cluster', 'live', 'api/nodes/a@127.0.0.1/processes']) {
      expect((await fetch(base + p)).status, p).toBe(401);
      expect((await fetch(`${base}${p}?token=wrong`)).status, p).toBe(401);
    }
    expect((await fetch(`${base}api/cluster`, { headers: auth })).status).toBe(200);
    const port = new URL(base).port;
    const raw = async (headers: Record<string, string>, method = 'GET', body?: string): Promise<number> => {
      const { request } = await import('node:http');
      return new Promise((resolve, reject) => {
        const r = request({ host: '127.0.0.1', port, path: '/api/nodes/b@127.0.0.1/kill', method, headers }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        r.on('error', reject);
        r.end(body);
      });
    };
    // DNS rebinding: a foreign Host name is refused even with the token.
    expect(await raw({ ...auth, host: `evil.example:${port}` })).toBe(421);
    // Another page: refused by Origin even with the token.
    expect(await raw({ ...auth, host: `127.0.0.1:${port}`, origin: 'http://evil.example', 'content-type': 'application/json' }, 'POST', '{}')).toBe(403);
    // Only JSON bodies: a text/plain form post (no preflight) cannot act.
    expect(await raw({ ...auth, host: `127.0.0.1:${port}`, 'content-type': 'text/plain' }, 'POST', '{"pid":"x","reason":"y"}')).toBe(415);
    // In the browser: the page without its token shows only the refusal.
    const p2 = await browser.newPage();
    const res = await p2.goto(base);
    expect(res?.status()).toBe(401);
    expect(await p2.$eval('body', (b) => b.innerText)).toContain('missing or wrong token');
    await p2.screenshot({ path: join(ARTIFACTS, 'no-token.png') });
    await p2.close();
  });

  it('shows no data from a node it is no longer connected to', async () => {
    const c = members[2]!;
    await page.goto(`${observer.url}#/`);
    await waitText('main', (t) => t.includes('3 of 3 nodes connected'), 'three nodes');
    await c.transport.close();
    c.node.shutdown();
    await waitText('main', (t) => t.includes('2 of 3 nodes connected'), 'c to go');
    const card = await page.$eval('.card[data-node="c@127.0.0.1"]', (el) => ({ state: el.querySelector('[data-state]')?.getAttribute('data-state'), metrics: el.querySelectorAll('[data-metric]').length, text: (el as HTMLElement).innerText }));
    expect(card.state).toBe('down');
    expect(card.metrics).toBe(0);
    expect(card.text).not.toMatch(/processes|messages\/s/);
    const r = await fetch(`${observer.url.split('?')[0]}api/nodes/c@127.0.0.1/processes`, { headers: { authorization: `Bearer ${observer.token}` } });
    expect(r.status).toBe(404);
    const summary = observer.view.summary().nodes.find((n) => n.name === 'c@127.0.0.1')!;
    expect([summary.connected, summary.snapshot, summary.history]).toEqual([false, null, []]);
    await shot('cluster-node-gone');
  });
});
