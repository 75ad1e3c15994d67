import { afterEach, describe, expect, it } from 'vitest';
import { Pid, type ExitMessage } from '@troupe/actor-core';
import { Cluster, nextEvent, probe } from './helpers.js';
import { freeze } from '../src/testing/index.js';

const c = new Cluster();
afterEach(() => c.closeAll());

describe('bounded outgoing buffer', () => {
  it('a peer that stops reading: past maxBufferedBytes the connection fails (nodedown send_buffer_overflow), never unbounded memory', async () => {
    const a = await c.start('a@local', { maxBufferedBytes: 1024 * 1024, maxBatch: 1 });
    const b = await c.start('b@local');
    await a.t.connect(b.t.url);
    const pb = await probe(b.node);
    const target = new Pid(pb.pid.node, pb.pid.id, pb.pid.creation);
    const pa = await probe(a.node, { trapExit: true });
    pa.ctx.link(target);
    freeze(b.t, 'a@local'); // b stops reading: the kernel buffers fill, then ws buffers
    const down = nextEvent(a.t, 'nodedown');
    const chunk = Buffer.alloc(256 * 1024, 1);
    let sent = 0;
    // At most 64 MiB in total; the limit must trip long before.
    while (a.t.isConnected('b@local') && sent < 256) {
      a.node.send(target, chunk);
      sent++;
      if (sent % 8 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(await down).toEqual({ node: 'b@local', reason: 'send_buffer_overflow' });
    expect(sent).toBeLessThan(256);
    expect((await pa.next<ExitMessage>((m) => (m as ExitMessage).type === 'EXIT')).reason).toBe('noconnection');
    const line = await a.log.wait((l) => /outgoing buffer limit/.test(l.msg));
    expect(line.level).toBe('error');
    expect(a.t.sendSignal('b@local', { k: 'send', to: target, msg: 1 })).toBe(false);
  });
});
