import type { WebSocket, RawData } from 'ws';
import type { Node } from '@troupe/actor-core';
import type { CodecEnds, PeerChannel, Signal, TransportPort } from '@troupe/actor-core/wire';
import type { WireCodec } from './codec.js';
import { decodeFrame, toBuffer } from './frame-decoder.js';
import { FrameEncoder, membersFrame, tickFrame, type Member } from './frame-encoder.js';
import { CloseReason, FrameType, type CloseReasonName } from './frame-types.js';
import type { PeerInfo } from './handshake/types.js';
import { Liveness } from './ticker.js';
import { FrameOpener, FrameSealer, TAG_BYTES } from './frame-auth/seal.js';
import type { FrameAuth } from './frame-auth/mode.js';

/** Why a connection went down, as `nodedown` reports it (Erlang's `nodedown_reason`s). */
export type DownReason =
  | 'connection_closed'
  | 'net_tick_timeout'
  | 'disconnect'
  | 'send_buffer_overflow'
  | 'shutdown'
  | 'replaced'
  | 'decode_error'
  | 'unknown_frame_type'
  | 'protocol_error'
  | 'frame_auth_failed';

/** What a connection needs from its transport. */
export interface PeerHost {
  readonly node: Node;
  readonly port: TransportPort;
  readonly codec: WireCodec;
  readonly maxBufferedBytes: number;
  readonly maxBatch: number;
  /** Largest frame to send: the peers' `maxPayload` (the same option on every node). */
  readonly maxFrameBytes: number;
  onMembers(conn: PeerConnection, members: Member[]): void;
  /** True if one of the two named peers told this node it is connected to the other. */
  acquainted(a: string, b: string): boolean;
  /** The connection is gone; called exactly once, after the last signal from it was handled. */
  onDown(conn: PeerConnection, reason: DownReason): void;
}

/** How long newcomer announcements to one peer are gathered into one frame (`announceMember`). */
const ANNOUNCE_WINDOW_MS = 50;
/** Bound on `reported`: a peer's member frames cannot grow this node's memory past it. */
const MAX_REPORTED = 1024;

/**
 * One authenticated connection to one peer: the single FIFO that carries
 * every signal between the two nodes (data and control together, so OTP's per-pair signal order holds), its
 * per-tick batching, its outgoing bound, and its liveness.
 *
 * Outgoing bound: when a flush would bring `ws.bufferedAmount` above
 * `maxBufferedBytes`, the peer is not keeping up; the connection is treated
 * as failed (`send_buffer_overflow`): it is closed and `nodedown` fires, so
 * links and monitors see `noconnection` — never silent loss or unbounded memory.
 */
export class PeerConnection implements PeerChannel {
  readonly name: string;
  readonly creation: number;
  readonly hidden: boolean;
  readonly url: string | null;
  readonly version: number;
  readonly frameAuth: FrameAuth;
  readonly liveness: Liveness;
  closed = false;
  /** The WebSocket close code the peer sent, if it closed the connection (decides whether to reconnect). */
  closeCode: number | null = null;
  /** Bytes of frames written to / read from the socket (metrics). */
  bytesSent = 0;
  bytesReceived = 0;
  /** @internal Test hook: this side stops reading, writing and ticking, as if its process were stopped. */
  frozen = false;
  /** @internal Test hook (a network partition): everything sent is discarded, everything received ignored; ticks still time out. */
  dropping = false;
  private readonly encoder: FrameEncoder;
  /** Seal what this node writes / open what the peer wrote; null with `frameAuth: 'none'`. */
  private readonly sealer: FrameSealer | null;
  private readonly opener: FrameOpener | null;
  /** This node and the peer: what the codec leaves off the wire. */
  private readonly ends: CodecEnds;
  private flushScheduled = false;
  private readonly flushBound = (): void => {
    this.flushScheduled = false;
    this.flush();
  };
  private readonly flushTurnBound = (): void => this.flush();
  /** Newcomers to tell the peer about, sent together when the window ends (`announceMember`). */
  private announcing: Map<string, Member> | null = null;
  private readonly announceBound = (): void => {
    const a = this.announcing;
    this.announcing = null;
    if (a === null) return;
    const news: Member[] = [];
    for (const m of a.values()) if (!this.host.acquainted(this.name, m.name)) news.push(m);
    this.sendMembers(news);
  };
  /**
   * Nodes this peer said it is connected to (its member lists and
   * announcements), so that newcomers it already has are not announced to it.
   * At most `MAX_REPORTED` names: past that, announcements are sent unfiltered.
   */
  readonly reported = new Set<string>();

  constructor(
    private readonly host: PeerHost,
    readonly ws: WebSocket,
    info: PeerInfo,
    /** True if this node dialled. */
    readonly initiated: boolean,
    now: number,
  ) {
    this.name = info.name;
    this.creation = info.creation;
    this.hidden = info.hidden;
    this.url = info.url;
    this.version = info.version;
    this.frameAuth = info.frameAuth;
    this.sealer = info.keys === null ? null : new FrameSealer(info.keys.send);
    this.opener = info.keys === null ? null : new FrameOpener(info.keys.recv);
    this.liveness = new Liveness(now);
    this.ends = { local: host.node.name, peer: info.name, peerCreation: info.creation };
    this.encoder = new FrameEncoder(host.codec, (kind, err) => {
      host.node.logger.error('transport-ws: signal dropped: it cannot be encoded or is too large', { peer: this.name, kind, error: err.message });
    });
    ws.on('message', this.onMessage);
    ws.on('close', this.onClose);
    ws.on('error', this.onError);
  }

  /** Queues a signal behind everything sent before; flushed as one frame at the end of the tick. */
  signal(s: Signal): boolean {
    if (this.closed) return false;
    this.queued(this.encoder.push(s));
    return true;
  }

  /** As `signal` for a send to the peer's process `(id, creation)`: the hot path, no Signal object. */
  send(id: number, creation: number, msg: unknown): boolean {
    if (this.closed) return false;
    this.queued(this.encoder.pushSend(id, creation, msg));
    return true;
  }

  /**
   * The first signal after a quiet tick goes out at the end of the job that
   * queued it (a microtask: a lone call or reply does not wait for the check
   * phase), with whatever else that job queued for this peer: a scheduler
   * run's processes, a handler's several sends. What follows in the same
   * tick is coalesced into one frame at its end, or sooner at `maxBatch`.
   */
  private queued(n: number): void {
    if (n >= this.host.maxBatch) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushBound);
      if (n === 1) queueMicrotask(this.flushTurnBound);
    }
  }

  /**
   * Tells the peer of a newcomer within ANNOUNCE_WINDOW_MS, with the others
   * of that window in one frame. While a cluster forms, each node sees a
   * newcomer per connection made and tells its other peers of each: one
   * frame per peer per newcomer, O(N²) frames per node, nearly all of them
   * about nodes the peer already knows from the seed. A late announcement
   * only delays a dial that the seed's own announcements did not cause.
   * When the window ends, newcomers that either side reported being
   * connected to the other are left out (`acquainted`): by then the
   * newcomer's own member list has usually arrived.
   */
  announceMember(m: Member): void {
    if (this.closed) return;
    if (this.announcing === null) {
      this.announcing = new Map();
      setTimeout(this.announceBound, ANNOUNCE_WINDOW_MS).unref();
    }
    this.announcing.set(m.name, m);
  }

  /** Sends `members` now, behind the queued signals. */
  sendMembers(members: readonly Member[]): void {
    if (this.closed || members.length === 0) return;
    this.flush();
    this.write(membersFrame(members));
  }

  /** Sends the queued signals now. */
  flush(): void {
    if (this.closed || this.frozen) return;
    for (const frame of this.encoder.flush(this.host.maxFrameBytes)) {
      if (this.closed) return;
      this.write(frame);
    }
  }

  private write(plain: Buffer): void {
    if (this.dropping) return;
    const size = plain.length + (this.sealer === null ? 0 : TAG_BYTES);
    if (this.ws.bufferedAmount + size > this.host.maxBufferedBytes) {
      this.host.node.logger.error('transport-ws: outgoing buffer limit exceeded, connection closed', {
        peer: this.name,
        buffered: this.ws.bufferedAmount,
        frame: size,
        limit: this.host.maxBufferedBytes,
      });
      this.down('send_buffer_overflow', 'send_buffer_overflow', true);
      return;
    }
    // Sealed only when it is certainly written: the counter must advance exactly once per message sent.
    const frame = this.sealer === null ? plain : this.sealer.seal(plain);
    this.ws.send(frame);
    this.liveness.sent++;
    this.bytesSent += frame.length;
  }

  /** Called by the transport once per tick interval. */
  tick(now: number, intervalMs: number, timeoutMs: number): void {
    if (this.closed || this.frozen) return;
    const action = this.liveness.check(now, intervalMs, timeoutMs);
    if (action === 'tick') {
      if (this.encoder.pending > 0) this.flush();
      else this.write(tickFrame());
      this.liveness.ticked();
    } else if (action === 'timeout') {
      // The timer phase runs before pending socket reads: after the event loop was
      // blocked, let I/O be read once before concluding the peer is silent.
      setImmediate(() => {
        if (this.closed || this.frozen || this.liveness.heardSinceCheck()) return;
        this.host.node.logger.warn('transport-ws: peer silent for the tick timeout, node down', { peer: this.name, timeoutMs });
        this.down('net_tick_timeout', 'net_tick_timeout', true);
      });
    }
  }

  /**
   * This node ends the connection. `terminate`: drop the socket at once (the
   * peer is not listening); otherwise a WebSocket close with `code`'s reason,
   * after the queued signals.
   */
  down(reason: DownReason, code: CloseReasonName, terminate: boolean): void {
    if (this.closed) return;
    if (!terminate) this.flush();
    this.closed = true;
    this.detach();
    if (terminate) this.ws.terminate();
    else this.ws.close(CloseReason[code], code);
    this.host.onDown(this, reason);
  }

  /** @internal Test hook (a stopped peer): stop reading, writing and ticking on this side. */
  freeze(): void {
    this.frozen = true;
    (this.ws as unknown as { _socket?: { pause(): void } })._socket?.pause();
  }

  /** @internal Test hook (SIGCONT): resume; whatever the peer did meanwhile (close, silence) is seen now. */
  unfreeze(): void {
    if (!this.frozen) return;
    this.frozen = false;
    (this.ws as unknown as { _socket?: { resume(): void } })._socket?.resume();
  }

  private detach(): void {
    this.sealer?.dispose();
    this.opener?.dispose();
    this.ws.off('message', this.onMessage);
    this.ws.off('close', this.onClose);
    this.ws.off('error', this.onError);
    // A late socket error must never become an uncaught exception.
    this.ws.on('error', () => {});
  }

  private readonly onMessage = (data: RawData, isBinary: boolean): void => {
    if (this.closed || this.dropping) return;
    let buf = toBuffer(data);
    this.bytesReceived += buf.length;
    if (this.opener !== null) {
      // A text message cannot be a sealed frame: refused like any other that does not open.
      const plain = isBinary ? this.opener.open(buf) : null;
      if (plain === null) return this.authFailure(buf.length, isBinary);
      buf = plain;
    }
    this.liveness.received++;
    if (isBinary && buf.length > 0 && buf[0] === FrameType.Data) {
      const codec = this.host.codec;
      if (codec.decodeFrame !== undefined) {
        const r = codec.decodeFrame(buf.subarray(1), this.ends);
        if (!r.ok) return this.protocolFailure('decode_error', r.error.message);
        this.host.port.handleFrame(this.name, r.frame, this);
        return;
      }
      const r = codec.decodeMany(buf.subarray(1), this.ends);
      if (!r.ok) return this.protocolFailure('decode_error', r.error.message);
      this.deliver(r.signals);
      return;
    }
    const f = decodeFrame(buf, isBinary, this.host.codec, this.ends);
    switch (f.kind) {
      case 'tick':
        return;
      case 'members':
        if (!this.hidden) for (const m of f.members) if (this.reported.size < MAX_REPORTED) this.reported.add(m.name);
        this.host.onMembers(this, f.members);
        return;
      case 'data':
        this.deliver(f.signals);
        return;
      case 'handshake':
        return this.protocolFailure('protocol_error', `handshake frame (${f.msg.t}) after the handshake`);
      case 'error':
        // A bad name can only be in a handshake frame, itself a protocol error after the handshake.
        return this.protocolFailure(f.reason === 'invalid_name' ? 'protocol_error' : f.reason, f.detail);
    }
  };

  private deliver(signals: Signal[]): void {
    const port = this.host.port;
    for (let i = 0; i < signals.length && !this.closed; i++) {
      try {
        port.handle(this.name, signals[i]!);
      } catch (e) {
        // handle() promises not to throw; if it ever does, lose one signal, not the node.
        this.host.node.logger.error('transport-ws: error handling a remote signal', { peer: this.name, kind: signals[i]!.k, error: String(e) });
      }
    }
  }

  /**
   * A frame did not authenticate: someone without this connection's keys
   * wrote into it (or replayed, reordered, dropped or altered a frame).
   * Nothing from it or after is delivered (the opener stays broken and the
   * connection is closed at once); logged once, since the connection ends.
   */
  private authFailure(bytes: number, isBinary: boolean): void {
    this.host.node.logger.warn('transport-ws: frame failed authentication, connection closed', {
      peer: this.name,
      reason: 'frame_auth_failed',
      frame: this.opener?.opened,
      bytes,
      binary: isBinary,
    });
    this.down('frame_auth_failed', 'frame_auth_failed', false);
  }

  private protocolFailure(reason: 'decode_error' | 'unknown_frame_type' | 'protocol_error', detail: string): void {
    this.host.node.logger.warn('transport-ws: bad frame from peer, connection closed', { peer: this.name, reason, detail });
    this.down(reason, reason, false);
  }

  private readonly onClose = (code: number, reason: Buffer): void => {
    if (this.closed) return;
    this.closeCode = code;
    this.host.node.logger.info('transport-ws: connection closed by peer', { peer: this.name, code, reason: reason.toString('utf8') });
    this.closed = true;
    this.detach();
    this.host.onDown(this, 'connection_closed');
  };

  private readonly onError = (err: Error): void => {
    if (this.closed) return;
    // ws reports an oversized message (maxPayload) or a protocol violation here, then closes.
    this.host.node.logger.warn('transport-ws: connection error, connection closed', { peer: this.name, error: err.message, code: (err as { code?: string }).code });
    this.closed = true;
    this.detach();
    this.ws.terminate();
    this.host.onDown(this, 'connection_closed');
  };
}
