import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { GenServer, Node, Pid, Ref, Rpc, isStarted } from '@troupe/actor-core';
import { SignalCodec, type Signal } from '@troupe/actor-core/wire';
import { membersFrame, tickFrame, withType } from '../src/frame-encoder.js';
import { encodeHandshake } from '../src/handshake/messages.js';
import { initiatorNext, initiatorStart } from '../src/handshake/initiator.js';
import { PROTOCOL_MAX_VERSION, type HandshakeContext } from '../src/handshake/types.js';
import { FrameType, WsTransport } from '../src/index.js';
import { COOKIE, Cluster, probe, withTimeout, type TestNode } from './helpers.js';
import { RawPeer } from './raw-peer.js';

/**
 * A property test: whatever a client throws at a live node — random bytes,
 * random frame types, valid frames with flipped bits, truncations and
 * insertions — before the handshake, as a mutated HELLO, or after a valid
 * handshake (sealed with the connection's keys, or raw), the node stays up and correct for everyone else. The seed is
 * fixed (FUZZ_SEED overrides it) and the run is bounded in time.
 */

const c = new Cluster();
const raws: RawPeer[] = [];
afterEach(async () => {
  for (const r of raws.splice(0)) r.close();
  await c.closeAll();
});

const codec = new SignalCodec();
const SEED = Number(process.env.FUZZ_SEED ?? 20240611);
const TIME_LIMIT_MS = 8000;

type Mutation = { k: 'flip'; pos: number; bit: number } | { k: 'cut'; at: number } | { k: 'insert'; pos: number; bytes: Uint8Array } | { k: 'type'; byte: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ k: fc.constant('flip' as const), pos: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ k: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ k: fc.constant('insert' as const), pos: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ k: fc.constant('type' as const), byte: fc.integer({ min: 0, max: 255 }) }),
);

function mutate(base: Buffer, muts: readonly Mutation[]): Buffer {
  let b = Buffer.from(base);
  for (const m of muts) {
    if (b.length === 0) break;
    if (m.k === 'flip') b[m.pos % b.length]! ^= 1 << m.bit;
    else if (m.k === 'cut') b = b.subarray(0, m.at % b.length);
    else if (m.k === 'insert') {
      const p = m.pos % (b.length + 1);
      b = Buffer.concat([b.subarray(0, p), m.bytes, b.subarray(p)]);
    } else b[0] = m.byte;
  }
  return b;
}

/** What one frame of a run is made of. */
type FrameSpec =
  | { k: 'random'; bytes: Uint8Array }
  | { k: 'typed'; type: number; bytes: Uint8Array }
  | { k: 'valid'; base: number }
  | { k: 'mutated'; base: number; muts: Mutation[] }
  | { k: 'text'; s: string };

const frameSpec: fc.Arbitrary<FrameSpec> = fc.oneof(
  { arbitrary: fc.record({ k: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 300 }) }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('typed' as const), type: fc.constantFrom(0x01, 0x02, 0x03, 0x10, 0x11, 0x12, 0x00, 0xff), bytes: fc.uint8Array({ maxLength: 200 }) }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('valid' as const), base: fc.nat() }), weight: 4 },
  { arbitrary: fc.record({ k: fc.constant('mutated' as const), base: fc.nat(), muts: fc.array(mutation, { minLength: 1, maxLength: 4 }) }), weight: 5 },
  { arbitrary: fc.record({ k: fc.constant('text' as const), s: fc.string({ maxLength: 50 }) }), weight: 1 },
);

const run = fc.record({
  phase: fc.constantFrom('pre' as const, 'hello' as const, 'post' as const),
  /** After the handshake: sealed with the connection's keys (reaching the decoders) or raw (refused by frame authentication). */
  sealed: fc.boolean(),
  helloMuts: fc.array(mutation, { minLength: 1, maxLength: 3 }),
  frames: fc.array(frameSpec, { minLength: 1, maxLength: 6 }),
});

/** Valid frames a peer could send after the handshake, as mutation seeds. */
function validFrames(target: TestNode, victim: Pid, evil: Pid, withMembers: boolean): Buffer[] {
  const to = new Pid(victim.node, victim.id, victim.creation);
  const data = (signals: Signal[]): Buffer => withType(FrameType.Data, codec.encodeMany(signals));
  const ref = target.node.makeRef();
  const frames = [
    data([{ k: 'send', to, msg: { hello: [1, 'two', { three: 3 }] } }]),
    data([{ k: 'send_name', name: 'echo', msg: 'x' }, { k: 'send', to, msg: randomBytes(16) }]),
    data([{ k: 'link', from: evil, to }, { k: 'unlink', from: evil, to }]),
    data([{ k: 'monitor', from: evil, to, ref: new Ref(evil.node, 7, evil.creation) }]),
    data([{ k: 'monitor', from: null, to: 'echo', ref }, { k: 'demonitor', from: evil, ref }]),
    data([{ k: 'exit', from: evil, to, reason: 'normal', link: false }]),
    data([{ k: 'reply', tag: 12345, value: 'late' }, { k: 'down', to: null, ref, object: to, reason: 'noproc' }]),
    data([{ k: 'spawn_request', ref, from: evil, name: 'nope', args: [1, 2], link: true, monitor: true }]),
    tickFrame(),
  ];
  if (withMembers) frames.push(membersFrame([{ name: 'ghost@local', url: 'ws://127.0.0.1:9' }]));
  return frames;
}

function build(spec: FrameSpec, bases: Buffer[]): Buffer | string {
  switch (spec.k) {
    case 'random':
      return Buffer.from(spec.bytes);
    case 'typed':
      return Buffer.concat([Buffer.from([spec.type]), spec.bytes]);
    case 'valid':
      return bases[spec.base % bases.length]!;
    case 'mutated':
      return mutate(bases[spec.base % bases.length]!, spec.muts);
    case 'text':
      return spec.s;
  }
}

/** Resolves once the node has read everything sent so far (a pong) or closed the connection; bounded. */
async function drained(r: RawPeer): Promise<void> {
  const pong = new Promise<void>((resolve) => {
    r.ws.once('pong', () => resolve());
    try {
      r.ws.ping();
    } catch {
      resolve(); // already closing
    }
  });
  await withTimeout(Promise.race([pong, r.closed.then(() => undefined)]), 3000, 'node to read the frames');
}

/** A GenServer counting its calls. */
const counter: GenServer<number> = {
  init: () => ({ ok: 0 }),
  handleCall: (req, _from, n) => ({ reply: { echo: req, n }, state: n + 1 }),
};

describe('fuzz: random and mutated frames against a live node (fast-check)', () => {
  it('the node stays up and correct: its peer still exchanges messages, calls and RPCs; a new peer can join', async () => {
    // Fuzzing fails a lot of handshakes from 127.0.0.1: the rate limiter would (rightly) block the checks below.
    const a = await c.start('a@local', { maxPayload: 64 * 1024, rateLimit: { maxFailures: 1_000_000, windowMs: 1000 } });
    const b = await c.start('b@local');
    await b.t.connect(a.t.url);
    const victim = await probe(a.node);
    let n = 0;
    let bNodedowns = 0;
    b.t.on('nodedown', () => bNodedowns++);

    await fc.assert(
      fc.asyncProperty(run, async ({ phase, sealed, helloMuts, frames }) => {
        const name = `fuzz${n++}@local`;
        const evil = new Pid(name, 1, 4242);
        const r = await RawPeer.connect(a.t.url);
        raws.push(r);
        let bases: Buffer[];
        if (phase === 'post') {
          await r.handshake(name, COOKIE);
          bases = validFrames(a, victim.pid, evil, true);
        } else if (phase === 'hello') {
          const ctx: HandshakeContext = {
            self: { name, creation: 4242, hidden: true, url: null, frameAuth: 'aes-256-gcm' },
            cookie: COOKIE,
            minVersion: PROTOCOL_MAX_VERSION,
            maxVersion: PROTOCOL_MAX_VERSION,
            newNonce: () => randomBytes(32),
            replayed: () => false,
            admit: () => null,
          };
          const s1 = initiatorNext(initiatorStart(), await r.nextHandshake(), ctx);
          r.sendRaw(mutate(encodeHandshake(s1.send!), helloMuts));
          bases = validFrames(a, victim.pid, evil, false);
        } else {
          bases = validFrames(a, victim.pid, evil, false);
        }
        for (const f of frames) {
          if (r.ws.readyState !== r.ws.OPEN) break;
          if (sealed) r.send(build(f, bases));
          else r.sendRaw(build(f, bases));
        }
        await drained(r);
        r.close();
        // Invariant after every run: the node's real peer is untouched.
        return a.t.isConnected('b@local') && b.t.isConnected('a@local');
      }),
      { seed: SEED, numRuns: 1000, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false, endOnFailure: true },
    );
    expect(n).toBeGreaterThan(50);
    expect(bNodedowns).toBe(0);
    expect(a.log.lines.some((l) => l.level === 'error' && /uncaught|unhandled/i.test(l.msg))).toBe(false);

    // Messages both ways.
    const pa = await probe(a.node);
    const pb = await probe(b.node);
    b.node.send(new Pid(pa.pid.node, pa.pid.id, pa.pid.creation), { ping: pb.pid });
    const m = await pa.next<{ ping: Pid }>();
    a.node.send(m.ping, 'pong');
    expect(await pb.next()).toBe('pong');
    // A GenServer call across the link, and an RPC.
    expect(isStarted(await GenServer.start(a.node, counter, undefined, { name: 'counter' }))).toBe(true);
    expect(await b.node.call({ name: 'counter', node: 'a@local' }, 'hi', 2000)).toEqual({ echo: 'hi', n: 0 });
    Rpc.expose(a.node, 'sum', (args) => (args as number[]).reduce((x, y) => x + y, 0));
    expect(await Rpc.call(b.node, 'a@local', 'sum', [1, 2, 3], { timeoutMs: 2000 })).toBe(6);
    // A brand-new node joins (and meets b through the mesh).
    const fresh = new Node({ name: 'fresh@local', logger: a.log });
    const ft = await WsTransport.start(fresh, { cookie: COOKIE, port: 0 });
    try {
      expect(await ft.connect(a.t.url)).toBe('a@local');
      await ft.waitFor('b@local', 3000);
      expect(await Rpc.call(fresh, 'a@local', 'sum', [4, 5], { timeoutMs: 2000 })).toBe(9);
    } finally {
      await ft.close();
      fresh.shutdown();
    }
  }, 30_000);
});
