import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Node } from '@troupe/actor-core';
import { ListenError, WsTransport } from '../src/index.js';
import { CaptureLogger, COOKIE } from './helpers.js';

const holders: Server[] = [];
afterEach(async () => {
  await Promise.all(holders.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

async function takePort(): Promise<number> {
  const s = createServer();
  holders.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return (s.address() as AddressInfo).port;
}

describe('a mesh port that is taken', () => {
  it('WsTransport.start rejects with a ListenError (no uncaught error event), and the node can start on a free port after', async () => {
    const port = await takePort();
    const node = new Node({ name: 'busy@127.0.0.1', logger: new CaptureLogger() });
    const err = await WsTransport.start(node, { cookie: COOKIE, host: '127.0.0.1', port }).then(
      () => expect.unreachable('the port is taken'),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ListenError);
    const le = err as ListenError;
    expect(le.code).toBe('TROUPE_ERR_ADDR_IN_USE');
    expect(le.inUse).toBe(true);
    expect(le.port).toBe(port);
    expect(le.message).toBe(`cannot listen on 127.0.0.1:${port}: the port is in use by another process`);
    // Nothing was attached: the same node starts its transport on another port.
    const t = await WsTransport.start(node, { cookie: COOKIE, host: '127.0.0.1', port: 0 });
    expect(t.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    await t.close();
    node.shutdown();
  });
});
