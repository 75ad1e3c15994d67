import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { decodeHandshake, encodeHandshake, type HandshakeMsg } from '../src/handshake/messages.js';
import { initiatorNext, initiatorStart } from '../src/handshake/initiator.js';
import { PROTOCOL_MAX_VERSION, type HandshakeContext } from '../src/handshake/types.js';
import { Pid } from '@troupe/actor-core';
import { SignalCodec, type Signal } from '@troupe/actor-core/wire';
import { withType } from '../src/frame-encoder.js';
import { FrameType } from '../src/index.js';
import { withTimeout } from './helpers.js';
import type { FrameAuth } from '../src/frame-auth/mode.js';
import { FrameOpener, FrameSealer } from '../src/frame-auth/seal.js';

const codec = new SignalCodec();
/** A DATA frame carrying `signals`, as a raw peer sends it after the handshake. */
export const dataFrame = (signals: Signal[]): Buffer => withType(FrameType.Data, codec.encodeMany(signals));
/** A copy of a local pid, as a peer names it on the wire. */
export const remotePid = (p: Pid): Pid => new Pid(p.node, p.id, p.creation);

/**
 * A hand-driven client for feeding a node bad input: every frame it sends is
 * chosen by the test. After `handshake` it holds the connection's frame keys
 * (it knows the cookie), so `send` seals as a real node would and tests reach
 * the decoders behind authentication; `sendRaw` writes bytes as they are.
 */
export class RawPeer {
  readonly frames: Buffer[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  /** The HELLO frame this peer sent, for replay tests. */
  hello: Buffer | null = null;
  /** Set by a completed handshake with frame authentication. */
  sealer: FrameSealer | null = null;
  opener: FrameOpener | null = null;
  private waiting: (() => void) | null = null;
  private isClosed = false;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d: Buffer) => {
      this.frames.push(d);
      this.waiting?.();
    });
    ws.on('error', () => {});
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        this.isClosed = true;
        this.waiting?.();
        resolve({ code, reason: reason.toString('utf8') });
      }),
    );
  }

  static async connect(url: string, opts: { ca?: Buffer } = {}): Promise<RawPeer> {
    const ws = new WebSocket(url, { perMessageDeflate: false, ...(opts.ca ? { ca: opts.ca } : {}) });
    const p = new RawPeer(ws);
    await withTimeout(new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    }), 3000, 'raw connect');
    return p;
  }

  async nextFrame(timeoutMs = 3000): Promise<Buffer> {
    const end = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      if (Date.now() > end || this.isClosed) throw new Error('raw peer: no frame');
      await withTimeout(new Promise<void>((r) => (this.waiting = r)), Math.max(1, end - Date.now()), 'frame').catch(() => undefined);
    }
    return this.frames.shift()!;
  }

  async nextHandshake(): Promise<HandshakeMsg> {
    const f = await this.nextFrame();
    const m = decodeHandshake(f[0]!, f.subarray(1));
    if (typeof m === 'string') throw new Error(m);
    return m;
  }

  /** Runs the initiator side of the handshake; `tamper` may rewrite the HELLO before it is sent. */
  async handshake(
    name: string,
    cookie: string,
    tamper?: (h: Extract<HandshakeMsg, { t: 'hello' }>) => HandshakeMsg,
    self: { hidden: boolean; url: string | null; frameAuth?: FrameAuth } = { hidden: true, url: null },
  ): Promise<HandshakeMsg | null> {
    const ctx: HandshakeContext = {
      self: { name, creation: 4242, frameAuth: 'aes-256-gcm', ...self },
      cookie,
      minVersion: PROTOCOL_MAX_VERSION,
      maxVersion: PROTOCOL_MAX_VERSION,
      newNonce: () => randomBytes(32),
      replayed: () => false,
      admit: () => null,
    };
    const s1 = initiatorNext(initiatorStart(), await this.nextHandshake(), ctx);
    if (s1.send === undefined || s1.send.t !== 'hello') throw new Error(`no hello: ${JSON.stringify(s1.fail)}`);
    const hello = tamper ? tamper(s1.send) : s1.send;
    this.hello = encodeHandshake(hello);
    this.ws.send(this.hello);
    const reply = await this.nextHandshake().catch(() => null);
    if (reply === null) return null;
    const s2 = initiatorNext(s1.state, reply, ctx);
    if (s2.up === undefined) throw new Error(`handshake failed: ${JSON.stringify(s2.fail)}`);
    if (s2.up.keys !== null) {
      this.sealer = new FrameSealer(s2.up.keys.send);
      this.opener = new FrameOpener(s2.up.keys.recv);
    }
    return reply;
  }

  /** Sends a frame, sealed once the handshake set up keys (a string goes out as a text message, never sealed). */
  send(b: Buffer | string): void {
    this.ws.send(typeof b !== 'string' && this.sealer !== null ? this.sealer.seal(b) : b);
  }

  /** Sends bytes exactly as given (what a relay without the keys can do). */
  sendRaw(b: Buffer | string): void {
    this.ws.send(b);
  }

  /** The next frame from the node after the handshake, opened; throws if it does not authenticate. */
  async nextOpened(timeoutMs = 3000): Promise<Buffer> {
    const f = await this.nextFrame(timeoutMs);
    if (this.opener === null) return f;
    const plain = this.opener.open(f);
    if (plain === null) throw new Error('raw peer: a frame from the node did not authenticate');
    return plain;
  }

  close(): void {
    this.ws.terminate();
  }
}
