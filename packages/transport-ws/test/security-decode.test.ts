import { afterEach, describe, expect, it } from 'vitest';
import { Packr } from 'msgpackr';
import { GenServer, Pid, isCall } from '@troupe/actor-core';
import { KIND, MAX_NESTING } from '@troupe/actor-core/wire';
import { withType } from '../src/frame-encoder.js';
import { CloseReason, FrameType } from '../src/index.js';
import { COOKIE, Cluster, probe, type TestNode } from './helpers.js';
import { RawPeer } from './raw-peer.js';

const c = new Cluster();
const raws: RawPeer[] = [];
afterEach(async () => {
  for (const r of raws.splice(0)) r.close();
  await c.closeAll();
});
const remote = (p: Pid): Pid => new Pid(p.node, p.id, p.creation);
const nest = (depth: number): unknown => {
  let v: unknown = 'leaf';
  for (let i = 0; i < depth; i++) v = [v];
  return v;
};

let evils = 0;
async function evil(a: TestNode): Promise<RawPeer> {
  const r = await RawPeer.connect(a.t.url);
  raws.push(r);
  await r.handshake(`evil${++evils}@local`, COOKIE);
  return r;
}

describe('decoder: only plain data plus Pid and Ref, nesting limited alike on both sides', () => {
  it('a frame carrying a Set, RegExp, Error, typed array or a structured-clone cycle closes with decode_error and delivers nothing', async () => {
    const a = await c.start('a@local');
    const target = await probe(a.node);
    const more = new Packr({ useRecords: false, moreTypes: true });
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    const payloads: Buffer[] = [
      more.pack([KIND.send, target.pid.id, target.pid.creation, new Set([1])]),
      more.pack([KIND.send, target.pid.id, target.pid.creation, /x+/g]),
      more.pack([KIND.send, target.pid.id, target.pid.creation, new RangeError('e')]),
      more.pack([KIND.send, target.pid.id, target.pid.creation, new Float64Array([1, 2])]),
      new Packr({ useRecords: false, structuredClone: true }).pack([KIND.send, target.pid.id, target.pid.creation, cyclic]),
    ];
    for (const p of payloads) {
      const r = await evil(a);
      r.send(withType(FrameType.Data, p));
      expect((await r.closed).code).toBe(CloseReason.decode_error);
    }
    a.node.send(target.pid, 'only this');
    expect(await target.next()).toBe('only this');
  });

  it(`a frame nesting deeper than ${MAX_NESTING} closes with decode_error; one at the limit is delivered`, async () => {
    const a = await c.start('a@local');
    const target = await probe(a.node);
    const plain = new Packr({ useRecords: false });
    const ok = await evil(a);
    ok.send(withType(FrameType.Data, plain.pack([KIND.send, target.pid.id, target.pid.creation, nest(MAX_NESTING - 1)])));
    expect(await target.next()).toEqual(nest(MAX_NESTING - 1));
    const r = await evil(a);
    r.send(withType(FrameType.Data, plain.pack([KIND.send, target.pid.id, target.pid.creation, nest(MAX_NESTING + 1)])));
    expect((await r.closed).code).toBe(CloseReason.decode_error);
  });

  it('a reply too deep to send fails the remote call at once with CodecError (not a timeout)', async () => {
    const a = await c.start('a@local');
    const b = await c.start('b@local');
    await a.t.connect(b.t.url);
    const server = b.node.spawn({ handle: (m: unknown) => { if (isCall(m)) GenServer.reply(b.node, m.from, nest(3000)); } });
    const caller = await probe(a.node);
    const e = await GenServer.call(caller.ctx, remote(server), 'deep', 60_000).catch((x: unknown) => x);
    expect(e).toMatchObject({ name: 'CodecError', code: 'TROUPE_ERR_ENCODE' });
    expect(String((e as Error).message)).toMatch(/deeper than|call stack/);
    expect(a.node.stats().pendingCalls).toBe(0);
  });

  it('a message with a __proto__ key is refused at the sender (logged), never renamed at the receiver', async () => {
    const a = await c.start('a@local');
    const b = await c.start('b@local');
    await a.t.connect(b.t.url);
    const target = await probe(b.node);
    a.node.send(remote(target.pid), JSON.parse('{"x": {"__proto__": {"polluted": 1}}}'));
    a.node.send(remote(target.pid), 'after');
    expect(await target.next()).toBe('after');
    expect((await a.log.wait((l) => l.msg.includes('signal dropped'))).data?.error).toMatch(/__proto__/);
  });
});
