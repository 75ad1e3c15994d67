import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { toBuffer } from '../src/frame-decoder.js';

/**
 * What an on-path attacker without the cookie does: a WebSocket relay that
 * node A dials instead of node B. It forwards the genuine handshake both
 * ways, then lets the test decide, frame by frame, what B gets from "A"
 * (`toB`) — forwarded, dropped, duplicated, altered, held back — and inject
 * frames of its own either way. Close codes are forwarded, so A sees why B
 * closed.
 */
export interface RelayFrame {
  data: Buffer;
  isBinary: boolean;
  /** Index among the messages A sent on this link (0 is A's HELLO). */
  index: number;
  /** Sent after the handshake (everything after HELLO). */
  postHandshake: boolean;
}

export type ToB = (f: RelayFrame, link: RelayLink) => Buffer[];

export class RelayLink {
  /** How B closed its side: the code and reason B sent to the relay. */
  readonly bClosed: Promise<{ code: number; reason: string }>;
  /** How A closed its side. */
  readonly aClosed: Promise<{ code: number; reason: string }>;
  /** Every message A sent after its HELLO, as A sent it. */
  readonly fromA: Buffer[] = [];
  private sentByA = 0;
  private upOpen = false;
  private readonly queued: Buffer[] = [];

  constructor(
    private readonly a: WebSocket,
    private readonly b: WebSocket,
    toB: ToB,
  ) {
    a.on('error', () => {});
    b.on('error', () => {});
    b.once('open', () => {
      this.upOpen = true;
      for (const q of this.queued.splice(0)) b.send(q);
    });
    a.on('message', (d: RawData, isBinary: boolean) => {
      const data = toBuffer(d);
      const index = this.sentByA++;
      if (index >= 1) this.fromA.push(data);
      for (const out of toB({ data, isBinary, index, postHandshake: index >= 1 }, this)) this.injectToB(out);
    });
    b.on('message', (d: RawData, isBinary: boolean) => {
      if (a.readyState === a.OPEN) a.send(toBuffer(d), { binary: isBinary });
    });
    this.bClosed = new Promise((resolve) =>
      b.once('close', (code, reason) => {
        resolve({ code, reason: reason.toString('utf8') });
        closeWith(a, code, reason);
      }),
    );
    this.aClosed = new Promise((resolve) =>
      a.once('close', (code, reason) => {
        resolve({ code, reason: reason.toString('utf8') });
        closeWith(b, code, reason);
      }),
    );
  }

  /** Writes `data` to B as if A had sent it. */
  injectToB(data: Buffer): void {
    if (!this.upOpen) this.queued.push(data);
    else if (this.b.readyState === this.b.OPEN) this.b.send(data);
  }

  /** Writes `data` to A as if B had sent it. */
  injectToA(data: Buffer): void {
    if (this.a.readyState === this.a.OPEN) this.a.send(data);
  }

  terminate(): void {
    this.a.terminate();
    this.b.terminate();
  }
}

/** Forwards a close with the same code where the protocol allows sending it (1005/1006 are never sent). */
function closeWith(ws: WebSocket, code: number, reason: Buffer): void {
  if (ws.readyState === ws.CLOSED || ws.readyState === ws.CLOSING) return;
  if (code === 1000 || (code >= 3000 && code <= 4999)) ws.close(code, reason);
  else ws.terminate();
}

export class Relay {
  readonly links: RelayLink[] = [];

  private constructor(
    private readonly wss: WebSocketServer,
    readonly url: string,
  ) {}

  /** A relay on 127.0.0.1 to `target`; `toB` defaults to forwarding everything unchanged. */
  static async start(target: string, toB: ToB = (f) => [f.data]): Promise<Relay> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    const relay = new Relay(wss, `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
    wss.on('connection', (a) => {
      const b = new WebSocket(target, { perMessageDeflate: false });
      const link = new RelayLink(a, b, toB);
      relay.links.push(link);
    });
    return relay;
  }

  async close(): Promise<void> {
    for (const l of this.links) l.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
  }
}
