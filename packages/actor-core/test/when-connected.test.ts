import { describe, expect, it } from 'vitest';
import { MemoryNetwork, WaitTimeoutError } from '../src/index.js';
import { testNode } from './helpers.js';

describe('node.whenConnected', () => {
  it('resolves when the node connects, at once if it already is', async () => {
    const net = new MemoryNetwork();
    const a = testNode('a@mem');
    const b = testNode('b@mem');
    const waiting = a.whenConnected('b@mem', { timeoutMs: 2000 });
    let settled = false;
    void waiting.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    net.connect(a, b);
    await waiting;
    expect(a.dist.isConnected('b@mem')).toBe(true);
    await a.whenConnected('b@mem');
    a.shutdown();
    b.shutdown();
  });

  it('rejects with WaitTimeoutError naming the node after timeoutMs', async () => {
    const a = testNode('a@mem');
    const e = await a.whenConnected('nobody@mem', { timeoutMs: 20 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WaitTimeoutError);
    expect((e as WaitTimeoutError).code).toBe('TROUPE_ERR_WAIT_TIMEOUT');
    expect((e as WaitTimeoutError).message).toBe('timed out after 20 ms waiting for node nobody@mem to connect to a@mem');
    a.shutdown();
  });
});
