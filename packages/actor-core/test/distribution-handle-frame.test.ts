import { describe, expect, it } from 'vitest';
import { Pid } from '../src/index.js';
import { KIND, SignalCodec } from '../src/wire.js';
import { probe, testNode } from './helpers.js';

describe('TransportPort.handleFrame (the receive fast path)', () => {
  it('delivers sends in frame order with other signals, drops sends to other incarnations, stops when the connection closes', async () => {
    const node = testNode('a@mem');
    const port = node.dist.attach({ sendSignal: () => false });
    port.nodeUp('b@mem', 3);
    const p = await probe(node);
    const c = new SignalCodec();
    const ends = { local: 'a@mem', peer: 'b@mem', peerCreation: 3 };
    const remote = new Pid('b@mem', 9, 3);
    const id = p.pid.id;
    const cr = p.pid.creation;
    // A link from the peer between two sends, a send to an old incarnation, an unknown reply.
    const bytes = c.encodeValue([KIND.send, id, cr, 1, KIND.link, remote, p.pid, KIND.send, id, cr + 1, 'old', KIND.reply, 12345, 'late', KIND.send, id, cr, 2]);
    const r = c.decodeFrame(bytes, ends);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    port.handleFrame('b@mem', r.frame, { closed: false });
    expect(node.mailboxOf(p.pid)).toEqual([1, 2]);
    expect(node.lookup(p.pid)!.links?.has(remote.key)).toBe(true);
    // The connection closes half-way through a frame: the rest is dropped.
    const conn = { closed: false };
    let n = 0;
    const counting = c.decodeFrame(c.encodeValue([KIND.send, id, cr, 3, KIND.send, id, cr, 4]), ends);
    if (!counting.ok) throw counting.error;
    const realDeliver = node.lookup(p.pid)!.deliver.bind(node.lookup(p.pid)!);
    node.lookup(p.pid)!.deliver = (m: unknown) => {
      realDeliver(m);
      if (++n === 1) conn.closed = true;
    };
    port.handleFrame('b@mem', counting.frame, conn);
    expect(node.mailboxOf(p.pid)).toEqual([1, 2, 3]);
    // From a node that is not connected: nothing (the probe itself dies of the link's noconnection).
    port.nodeDown('b@mem', 'connection_closed');
    port.handleFrame('b@mem', counting.frame, null);
    expect(n).toBe(1);
    node.shutdown();
  });
});
