import { describe, expect, it } from 'vitest';
import { Pid, Ref } from '../src/index.js';
import { SignalCodec, type Signal } from '../src/wire.js';

// packId reuses one buffer per node name (msgpackr copies extension bytes at once):
// many pids and refs of the same and different nodes in one message must all survive.
describe('codec: cached node-name bytes for pids and refs', () => {
  it('round-trips many pids/refs of a few nodes in one batch, each with its own id and creation', () => {
    const c = new SignalCodec();
    const nodes = ['a@mem', 'b@mem', 'ünïcode@mem'];
    const signals: Signal[] = [];
    for (let i = 0; i < 300; i++) {
      const n = nodes[i % 3]!;
      signals.push({ k: 'send', to: new Pid('a@mem', i + 1, i % 7), msg: [new Pid(nodes[(i + 1) % 3]!, 2 ** 40 + i, 4_000_000_000 + i), new Ref(n, i, 1)] });
    }
    const r = c.decodeMany(c.encodeMany(signals), { local: 'a@mem', peer: 'b@mem', peerCreation: 1 });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    r.signals.forEach((s, i) => {
      const orig = signals[i] as Extract<Signal, { k: 'send' }>;
      const got = s as Extract<Signal, { k: 'send' }>;
      expect(got.to.equals(orig.to)).toBe(true);
      const [p, ref] = got.msg as [Pid, Ref];
      const [op, oref] = orig.msg as [Pid, Ref];
      expect([p.node, p.id, p.creation]).toEqual([op.node, op.id, op.creation]);
      expect(ref.equals(oref)).toBe(true);
    });
  });

  it('stays correct past the cache bound (more node names than it keeps)', () => {
    const c = new SignalCodec();
    for (let i = 0; i < 1500; i++) {
      const p = new Pid(`n${i}@mem`, i + 1, i);
      const r = c.decode(c.encode({ k: 'send_name', name: 'x', msg: p }), { local: 'a@mem', peer: 'b@mem', peerCreation: 1 });
      expect(r.ok && ((r.signal as Extract<Signal, { k: 'send_name' }>).msg as Pid).equals(p)).toBe(true);
    }
  });
});
