import { createHmac, randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { EventEmitter } from 'eventemitter3';
import { WebSocket, WebSocketServer, type ClientOptions } from 'ws';
import type { Node } from '@troupe/actor-core';
import type { Signal, Transport, TransportPort } from '@troupe/actor-core/wire';
import { defaultCodec, type WireCodec } from './codec.js';
import { resolveCookie } from './cookie.js';
import { assertStrongCookie } from './cookie-strength.js';
import { ConnectError, HandshakeError, InvalidUrlError, ListenError, TRANSIENT_HANDSHAKE_REASONS, TransportClosedError } from './errors.js';
import type { Member } from './frame-encoder.js';
import { runAcceptor, runInitiator, type HandshakeFailure } from './handshake/run.js';
import { NonceCache } from './handshake/nonce-cache.js';
import { PROTOCOL_MAX_VERSION, PROTOCOL_MIN_VERSION, type Failure, type HandshakeContext, type PeerInfo } from './handshake/types.js';
import { assertNodeName } from './node-name.js';
import { resolveOptions, type ResolvedOptions, type WsTransportOptions } from './options.js';
import { PeerConnection, type DownReason, type PeerHost } from './peer-connection.js';
import { FailureLimiter } from './rate-limiter.js';
import { alignedTimer, type Stoppable } from './ticker.js';
import { PendingHandshakes } from './pending-handshakes.js';
import { IntervalLog } from './interval-log.js';
import { Discovery } from './discovery/discovery.js';
import { CloseReason } from './frame-types.js';
import { backoffDelay } from './backoff.js';
import type { FrameAuth } from './frame-auth/mode.js';

export interface NodeUpEvent {
  node: string;
  creation: number;
  hidden: boolean;
}

export interface NodeDownEvent {
  node: string;
  reason: DownReason;
}

/** `WsTransport.health()`: Jido's states; `reasons` say what fails. */
export interface TransportHealth {
  status: 'healthy' | 'degraded' | 'unreachable';
  reasons: string[];
}

export interface WsTransportEvents {
  nodeup: (e: NodeUpEvent) => void;
  nodedown: (e: NodeDownEvent) => void;
}

/** What `peer(name)` reports about one connection. */
export interface PeerStatus {
  name: string;
  creation: number;
  hidden: boolean;
  url: string | null;
  /** True if this node dialled the connection. */
  initiated: boolean;
  version: number;
  /** How this connection's frames are protected (`'aes-256-gcm'` unless both ends chose `'none'`). */
  frameAuth: FrameAuth;
  /** Bytes written to the socket but not yet sent. */
  bufferedBytes: number;
  /** Frames and bytes over this connection, each way, since it came up. */
  framesSent: number;
  framesReceived: number;
  bytesSent: number;
  bytesReceived: number;
}

/** An outgoing attempt; `name` is known once the challenge arrived. */
interface Attempt {
  name: string | null;
}

const BENIGN: ReadonlySet<string> = new Set(['already_connected', 'simultaneous_connect', 'self_connect']);
/** How long a handshake from an address with too many wrong cookies waits before its CHALLENGE. */
const SLOWED_HANDSHAKE_MS = 1000;

/**
 * Lifts a socket's message cap from `handshakeMaxPayload` to `maxPayload`
 * once its peer is authenticated. ws fixes the cap per socket at creation
 * and has no setter: this writes its receiver's field (ws 8).
 */
function allowFullPayload(ws: WebSocket, maxPayload: number): void {
  const receiver = (ws as unknown as { _receiver?: { _maxPayload?: number } })._receiver;
  if (receiver === undefined || typeof receiver._maxPayload !== 'number') throw new Error('transport-ws: this version of ws has no per-socket maxPayload to raise');
  receiver._maxPayload = maxPayload;
}

/** Nodedowns that may be transient (a stall, a dropped socket): the peer is redialled. */
// A frame that failed authentication is an attack on that socket (or a broken path), not the peer
// leaving: a fresh connection with fresh keys restores the link.
const REDIAL_REASONS: ReadonlySet<DownReason> = new Set(['net_tick_timeout', 'connection_closed', 'send_buffer_overflow', 'frame_auth_failed']);
/** Close codes by which the peer said "do not come back" (its `disconnect`, or a newer connection replaced this one). */
const NO_REDIAL_CODES: ReadonlySet<number> = new Set([CloseReason.disconnect, CloseReason.replaced]);

/** Automatic reconnection to one lost peer. */
interface Redial {
  readonly name: string;
  readonly url: string;
  /** Failed attempts so far: the backoff exponent. */
  attempts: number;
  /** Date.now() after which no new attempt starts. */
  deadline: number;
  timer: NodeJS.Timeout | null;
  inFlight: boolean;
}
const CLOSE_WAIT_MS = 500;

/**
 * The node mesh over WebSocket: listens, dials, authenticates with the
 * cookie handshake, keeps one connection per node pair, carries signals in
 * per-tick batches, and reports `nodeup` / `nodedown` to the node and to
 * listeners. Start one per node with `WsTransport.start(node, options)`.
 */
export class WsTransport extends EventEmitter<WsTransportEvents> implements Transport, PeerHost {
  readonly url: string;
  readonly codec: WireCodec;
  readonly maxBufferedBytes: number;
  readonly maxBatch: number;
  readonly maxFrameBytes: number;
  /** A keyed hash of the cookie that discovery announcements carry (nodes with another cookie are skipped); never the cookie. */
  readonly cookieFingerprint: string;
  /** @internal The node's side of the connections, from `attach`. */
  port!: TransportPort;
  private readonly opts: ResolvedOptions;
  /** @internal Authenticated connections, by peer name. */
  readonly peers = new Map<string, PeerConnection>();
  /** Outgoing attempts that sent their HELLO, by peer name (simultaneous-connect resolution). */
  private readonly outgoing = new Map<string, Attempt>();
  private readonly dialing = new Map<string, Promise<string>>();
  private readonly sockets = new Set<WebSocket>();
  private readonly nonces = new NonceCache();
  private readonly limiter: FailureLimiter;
  private readonly pendingHandshakes: PendingHandshakes;
  /** Announced members waiting to be dialled, and how many such dials run. */
  private readonly meshQueue = new Map<string, Member>();
  private meshDialing = 0;
  /** Refusals and failed handshakes: one log line per kind per interval. */
  private readonly refusals: IntervalLog;
  /** @internal Peers whose traffic is dropped and whose connections are refused (`block` in `@troupe/transport-ws/testing`). */
  readonly blocked = new Set<string>();
  private readonly ticker: Stoppable;
  private closed = false;
  private discoveryRunner: Discovery | null = null;
  /** Peers being redialled after a transient nodedown, by name. */
  private readonly redials = new Map<string, Redial>();

  private constructor(
    readonly node: Node,
    private readonly cookie: string,
    private readonly server: HttpServer,
    private readonly wss: WebSocketServer,
    url: string,
    private readonly clientTls: ClientOptions,
    options: WsTransportOptions,
  ) {
    super();
    this.url = url;
    this.opts = resolveOptions(options);
    this.codec = options.codec ?? defaultCodec();
    this.maxBufferedBytes = this.opts.maxBufferedBytes;
    this.maxBatch = this.opts.maxBatch;
    this.maxFrameBytes = this.opts.maxPayload;
    this.cookieFingerprint = createHmac('sha256', cookie).update('troupe discovery fingerprint').digest('hex').slice(0, 16);
    this.limiter = new FailureLimiter(options.rateLimit);
    this.pendingHandshakes = new PendingHandshakes(this.opts.maxPendingHandshakes, this.opts.maxPendingHandshakesPerAddress);
    this.refusals = new IntervalLog(node.logger);
    // Liveness is checked once per tickMs, as Erlang's ticker runs once per tick interval: a
    // tick goes out if nothing was sent since the last check, and a peer is down at the first
    // check that finds it silent for the timeout (timeout to timeout + tickMs after its last
    // frame). Finer checks would detect sooner but wake every idle node several times a
    // second for nothing (docs/SCALE.md, "Idle CPU"). On the wall clock's multiples of the
    // period (alignedTimer): a cluster's ticks go out, and arrive, in bursts.
    this.ticker = alignedTimer(this.opts.tickMs, () => this.tick());
    wss.on('connection', (ws, req) => this.accept(ws, req));
    wss.on('error', (err) => node.logger.error('transport-ws: server error', { error: err.message }));
  }

  /** Listens and attaches to `node` (whose name must be `name@host`). */
  static async start(node: Node, options: WsTransportOptions = {}): Promise<WsTransport> {
    assertNodeName(node.name);
    const o = resolveOptions(options);
    const cookie = resolveCookie({ cookie: options.cookie, cookieFile: options.cookieFile });
    assertStrongCookie(cookie, options.allowInsecureCookie === true);
    const tls = options.tls;
    // Half-open requests (headers never finished) are dropped by node:http's own check, which
    // runs on a timer whether or not any request is open: every httpRequestTimeoutMs (at least
    // 1 s), so such a request is held at most twice that, and an idle node wakes once per
    // timeout for it, not once a second.
    const checkEvery = Math.max(1000, o.httpRequestTimeoutMs);
    const timeouts = { headersTimeout: o.httpRequestTimeoutMs, requestTimeout: o.httpRequestTimeoutMs, connectionsCheckingInterval: checkEvery };
    const server: HttpServer =
      tls !== undefined
        ? (createHttpsServer({ cert: tls.cert, key: tls.key, ...timeouts }) as unknown as HttpServer)
        : createHttpServer(timeouts);
    server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(426, { 'content-type': 'text/plain' }).end('Troupe node: WebSocket only\n');
    });
    // Listen before the WebSocket server exists: it re-emits the HTTP server's errors as its own
    // 'error' event, which would be thrown (uncatchable by the caller) for a taken port.
    await new Promise<void>((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException): void => reject(new ListenError(o.host, o.port, e.code ?? 'UNKNOWN', e.message));
      server.once('error', onError);
      server.listen(o.port, o.host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    // No compression: it costs CPU per frame and rarely pays on a LAN.
    // Until its handshake completes a socket may send only small frames (`allowFullPayload` after).
    const wss = new WebSocketServer({ server, maxPayload: o.handshakeMaxPayload, perMessageDeflate: false, clientTracking: false });
    const port = (server.address() as AddressInfo).port;
    const host = o.host.includes(':') ? `[${o.host}]` : o.host;
    const url = options.advertiseUrl ?? `${tls !== undefined ? 'wss' : 'ws'}://${host}:${port}`;
    const clientTls: ClientOptions = tls === undefined ? {} : { ca: tls.ca, rejectUnauthorized: tls.rejectUnauthorized ?? true };
    const t = new WsTransport(node, cookie, server, wss, url, clientTls, options);
    try {
      t.port = node.dist.attach(t);
    } catch (e) {
      // The node already has a transport: release the port, leave the other transport alone.
      t.closed = true;
      t.ticker.stop();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw e;
    }
    node.logger.info('transport-ws: listening', { node: node.name, url, hidden: o.hidden, frameAuth: o.frameAuth, tickMs: o.tickMs, tickTimeoutMs: o.tickTimeoutMs });
    if (o.frameAuth === 'none') {
      node.logger.warn('transport-ws: frame authentication is off (frameAuth: none): frames after the handshake travel unauthenticated and in clear', { node: node.name });
    }
    if (options.discovery !== undefined && options.discovery.length > 0) t.discoveryRunner = new Discovery(t, options.discovery, options.discoveryOptions).start();
    return t;
  }

  // ---- public API -------------------------------------------------------------

  /**
   * Connects to the node at `url` and resolves to its name once the
   * connection is up. Visible nodes then connect to every member the peer
   * knows (transitive mesh). Connecting to this node's own URL resolves to
   * its own name. Rejects with `HandshakeError` / `ConnectError`.
   */
  connect(url: string): Promise<string> {
    if (this.closed) return Promise.reject(new TransportClosedError());
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return Promise.reject(new InvalidUrlError(url));
    }
    if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') return Promise.reject(new InvalidUrlError(url));
    if (url === this.url) return Promise.resolve(this.node.name);
    let p = this.dialing.get(url);
    if (p === undefined) {
      p = this.dial(url).finally(() => this.dialing.delete(url));
      this.dialing.set(url, p);
    }
    return p;
  }

  /** The runner of `options.discovery` (watch its `connected` / `failed` / `removed` events), or null. */
  get discovery(): Discovery | null {
    return this.discoveryRunner;
  }

  /** Connected nodes: `visible` (default, the mesh), `hidden`, or all `connected`. */
  nodes(kind: 'visible' | 'hidden' | 'connected' = 'visible'): string[] {
    const out: string[] = [];
    for (const c of this.peers.values()) {
      if (kind === 'connected' || (kind === 'hidden') === c.hidden) out.push(c.name);
    }
    return out;
  }

  /** The connection to `name`, if up. */
  peer(name: string): PeerStatus | undefined {
    const c = this.peers.get(name);
    if (c === undefined) return undefined;
    return { name: c.name, creation: c.creation, hidden: c.hidden, url: c.url, initiated: c.initiated, version: c.version, frameAuth: c.frameAuth, bufferedBytes: c.ws.bufferedAmount,
      framesSent: c.liveness.sent, framesReceived: c.liveness.received, bytesSent: c.bytesSent, bytesReceived: c.bytesReceived };
  }

  isConnected(name: string): boolean {
    return this.peers.has(name);
  }

  /** Closes the connection to `name` (nodedown reason `disconnect`); false if not connected. */
  disconnect(name: string): boolean {
    // A deliberate disconnect also ends any automatic reconnection to that node.
    this.cancelRedial(name);
    const c = this.peers.get(name);
    if (c === undefined) return false;
    this.node.logger.info('transport-ws: disconnecting', { peer: name });
    c.down('disconnect', 'disconnect', false);
    return true;
  }

  /** Resolves when `name` is connected; rejects after `timeoutMs`. */
  waitFor(name: string, timeoutMs = this.opts.setupTimeoutMs): Promise<void> {
    if (this.peers.has(name)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onUp = (e: NodeUpEvent): void => {
        if (e.node !== name) return;
        clearTimeout(timer);
        this.off('nodeup', onUp);
        resolve();
      };
      const timer = setTimeout(() => {
        this.off('nodeup', onUp);
        reject(new ConnectError(name, `node did not come up within ${timeoutMs} ms`));
      }, timeoutMs);
      this.on('nodeup', onUp);
    });
  }

  /** Closes every connection (peers see `connection_closed`; local nodedown reason `shutdown`) and the listener. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ticker.stop();
    this.meshQueue.clear();
    this.discoveryRunner?.stop();
    for (const name of [...this.redials.keys()]) this.cancelRedial(name);
    for (const c of [...this.peers.values()]) c.down('shutdown', 'shutdown', false);
    const pending = [...this.sockets].map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          const timer = setTimeout(() => {
            ws.terminate();
            resolve();
          }, CLOSE_WAIT_MS);
          ws.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          if (ws.readyState === WebSocket.OPEN) ws.close(4018, 'shutdown');
        }),
    );
    await Promise.all(pending);
    await new Promise<void>((resolve) => {
      this.wss.close(() => resolve());
    });
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    this.port.detach();
    this.node.logger.info('transport-ws: closed', { node: this.node.name });
  }

  /**
   * How this node's cluster membership is doing: `healthy`; `degraded` when
   * some discovery target (a seed) fails, with one reason per target;
   * `unreachable` when targets fail and no peer is connected (e.g. every
   * seed refuses this node's cookie).
   */
  health(): TransportHealth {
    const failing = this.discoveryRunner?.failing() ?? [];
    const reasons = failing.map((f) => `${f.url}: ${f.error}`);
    if (reasons.length === 0) return { status: 'healthy', reasons };
    return { status: this.nodes('visible').length === 0 && !this.opts.hidden ? 'unreachable' : 'degraded', reasons };
  }

  /** Names being redialled after a transient nodedown (see `reconnect`). */
  reconnecting(): string[] {
    return [...this.redials.keys()];
  }

  /**
   * @internal A block on `name` (see `@troupe/transport-ws/testing`) was
   * lifted: a reconnection it paused resumes after the initial delay (not at
   * once, so a caller's own `connect` normally goes first), with a fresh
   * give-up window since the partition was not the peer's fault.
   */
  resumeRedial(name: string): void {
    const r = this.redials.get(name);
    if (r !== undefined && r.timer === null && !r.inFlight && this.opts.reconnect !== null) {
      r.attempts = 0;
      r.deadline = Date.now() + this.opts.reconnect.giveUpMs;
      this.scheduleRedial(r);
    }
  }

  // ---- Transport ------------------------------------------------------------------

  /** Queues `signal` for `node`; false (nothing sent, nothing dialled) if it is not connected: fail closed. */
  sendSignal(node: string, signal: Signal): boolean {
    const c = this.peers.get(node);
    if (c === undefined) {
      this.node.logger.debug('transport-ws: signal to an unconnected node dropped', { peer: node, kind: signal.k });
      return false;
    }
    return c.signal(signal);
  }

  // ---- PeerHost -------------------------------------------------------------------

  /**
   * @internal A member announced its peers. What an announcement can make
   * this node do is bounded: duplicates and known nodes are skipped, at most
   * `maxPeers` visible peers are connected or waiting, and at most
   * `maxConcurrentDials` dials run at once; entries over the bound are
   * ignored and logged (once per interval).
   */
  onMembers(conn: PeerConnection, members: Member[]): void {
    if (conn.hidden || this.opts.hidden || this.closed) return;
    let ignored = 0;
    for (const m of members) {
      if (m.name === this.node.name || this.peers.has(m.name) || this.outgoing.has(m.name) || this.blocked.has(m.name) || this.meshQueue.has(m.name)) continue;
      // Only the smaller name dials, so mesh formation never races into a simultaneous connect;
      // the other node learns about this one from the same member and dials it.
      if (this.node.name > m.name || this.dialing.has(m.url)) continue;
      if (this.peers.size + this.meshQueue.size + this.meshDialing >= this.opts.maxPeers) {
        ignored++;
        continue;
      }
      this.meshQueue.set(m.name, m);
    }
    if (ignored > 0) {
      this.refusals.warn('members', 'transport-ws: announced members over maxPeers ignored', { via: conn.name, ignored, maxPeers: this.opts.maxPeers });
    }
    this.dialMembers();
  }

  /** Dials queued members, `maxConcurrentDials` at a time. */
  private dialMembers(): void {
    while (!this.closed && this.meshDialing < this.opts.maxConcurrentDials && this.meshQueue.size > 0) {
      const [name, m] = this.meshQueue.entries().next().value as [string, Member];
      this.meshQueue.delete(name);
      if (this.peers.has(name) || this.outgoing.has(name)) continue;
      this.meshDialing++;
      this.connect(m.url)
        .catch((e: Error) => {
          this.refusals.warn('mesh-connect', 'transport-ws: mesh connect failed', { peer: m.name, url: m.url, error: e.message });
        })
        .finally(() => {
          this.meshDialing--;
          this.dialMembers();
        });
    }
  }

  /** @internal */
  acquainted(a: string, b: string): boolean {
    return this.peers.get(a)?.reported.has(b) === true || this.peers.get(b)?.reported.has(a) === true;
  }

  /** What peers said about `name`'s connections concerned the incarnation that is now gone. */
  private forgetReports(name: string): void {
    for (const c of this.peers.values()) c.reported.delete(name);
  }

  /** @internal */
  onDown(conn: PeerConnection, reason: DownReason): void {
    if (this.peers.get(conn.name) !== conn) return;
    this.peers.delete(conn.name);
    this.forgetReports(conn.name);
    this.node.logger.info('transport-ws: node down', { peer: conn.name, reason });
    this.port.nodeDown(conn.name, reason);
    this.emit('nodedown', { node: conn.name, reason });
    this.maybeRedial(conn, reason);
  }

  // ---- automatic reconnection ----------------------------------------------------------

  /**
   * Erlang reconnects on the next use; signals here fail closed instead, so
   * without this a short stall (GC, a busy machine) would split the cluster
   * for good. Only visible peers whose URL we know, only after transient causes.
   */
  private maybeRedial(conn: PeerConnection, reason: DownReason): void {
    const cfg = this.opts.reconnect;
    if (cfg === null || this.closed || conn.hidden || conn.url === null || !REDIAL_REASONS.has(reason)) return;
    if (conn.closeCode !== null && NO_REDIAL_CODES.has(conn.closeCode)) return;
    if (this.redials.has(conn.name)) return;
    const r: Redial = { name: conn.name, url: conn.url, attempts: 0, deadline: Date.now() + cfg.giveUpMs, timer: null, inFlight: false };
    this.redials.set(conn.name, r);
    this.scheduleRedial(r);
  }

  private scheduleRedial(r: Redial): void {
    const cfg = this.opts.reconnect;
    if (cfg === null || this.closed) return;
    const remaining = r.deadline - Date.now();
    if (remaining <= 0) {
      this.node.logger.info('transport-ws: giving up reconnecting', { peer: r.name, url: r.url, attempts: r.attempts });
      this.redials.delete(r.name);
      return;
    }
    const delay = Math.min(remaining, Math.max(1, backoffDelay(r.attempts, cfg)));
    r.timer = setTimeout(() => this.redial(r), delay);
    // Never what keeps a process alive; close() clears it anyway.
    r.timer.unref();
  }

  private redial(r: Redial): void {
    r.timer = null;
    if (this.closed || this.redials.get(r.name) !== r) return;
    if (this.peers.has(r.name)) {
      this.redials.delete(r.name);
      return;
    }
    // Partitioned by the test hook: pause; unblock() resumes.
    if (this.blocked.has(r.name)) {
      this.node.logger.debug('transport-ws: reconnect paused, peer blocked', { peer: r.name });
      return;
    }
    r.inFlight = true;
    this.node.logger.debug('transport-ws: reconnect attempt', { peer: r.name, url: r.url, attempt: r.attempts + 1 });
    // Not registered in `dialing`: a caller's own connect() must never share this attempt's failure.
    const p = this.dialing.get(r.url) ?? this.dial(r.url, true);
    p.then(
      (got) => {
        r.inFlight = false;
        if (this.redials.get(r.name) !== r) return;
        // Someone else now lives at that URL: the node we lost is not there.
        if (got !== r.name) {
          this.node.logger.info('transport-ws: reconnect reached another node, giving up', { peer: r.name, url: r.url, found: got });
          this.redials.delete(r.name);
        }
      },
      (e: Error) => {
        r.inFlight = false;
        if (this.closed || this.redials.get(r.name) !== r) return;
        if (e instanceof TransportClosedError || (e instanceof HandshakeError && !TRANSIENT_HANDSHAKE_REASONS.has(e.reason))) {
          this.node.logger.warn('transport-ws: reconnect refused, giving up', { peer: r.name, url: r.url, error: e.message });
          this.redials.delete(r.name);
          return;
        }
        r.attempts++;
        this.node.logger.debug('transport-ws: reconnect attempt failed', { peer: r.name, url: r.url, attempt: r.attempts, error: e.message });
        if (this.peers.has(r.name)) this.redials.delete(r.name);
        else this.scheduleRedial(r);
      },
    );
  }

  private cancelRedial(name: string): void {
    const r = this.redials.get(name);
    if (r === undefined) return;
    if (r.timer !== null) clearTimeout(r.timer);
    this.redials.delete(name);
  }

  // ---- connection setup ---------------------------------------------------------------

  private track(ws: WebSocket): void {
    this.sockets.add(ws);
    ws.once('close', () => this.sockets.delete(ws));
  }

  private context(attempt: Attempt | null): HandshakeContext {
    return {
      self: { name: this.node.name, creation: this.node.creation, hidden: this.opts.hidden, url: this.url, frameAuth: this.opts.frameAuth },
      cookie: this.cookie,
      minVersion: PROTOCOL_MIN_VERSION,
      maxVersion: PROTOCOL_MAX_VERSION,
      newNonce: () => randomBytes(32),
      replayed: (nonce) => this.nonces.checkAndAdd(nonce),
      admit: (peer) => this.admit(peer.name, peer.creation, attempt),
    };
  }

  /**
   * One connection per node pair. An attempt to a node already connected (same
   * creation) is refused; a newer creation replaces the old connection when up.
   * Truly simultaneous attempts (each side sent its HELLO): the connection
   * initiated by the smaller name survives — both sides apply the same rule.
   */
  private admit(name: string, creation: number, attempt: Attempt | null): Failure | null {
    if (this.blocked.has(name)) return { reason: 'blocked', detail: `${name} is blocked on ${this.node.name} (partition test hook)` };
    const up = this.peers.get(name);
    if (up !== undefined && up.creation === creation) {
      return { reason: 'already_connected', detail: `${name} is already connected` };
    }
    const mine = this.outgoing.get(name);
    if (attempt !== null) {
      if (mine !== undefined && mine !== attempt) return { reason: 'already_connected', detail: `another connection attempt to ${name} is in progress` };
      attempt.name = name;
      this.outgoing.set(name, attempt);
      return null;
    }
    if (mine !== undefined && this.node.name < name) {
      return { reason: 'simultaneous_connect', detail: `${this.node.name} and ${name} connected at once; the connection initiated by ${this.node.name} (smaller name) survives` };
    }
    return null;
  }

  private accept(ws: WebSocket, req: IncomingMessage): void {
    ws.on('error', () => {});
    if (this.closed) {
      ws.terminate();
      return;
    }
    this.track(ws);
    const addr = req.socket.remoteAddress ?? 'unknown';
    const pending = this.pendingHandshakes;
    for (const old of pending.admit(ws, addr)) {
      this.refusals.warn('evicted', 'transport-ws: too many sockets without a completed handshake, the oldest closed', {
        remote: addr,
        maxPending: pending.max,
        maxPendingPerAddress: pending.maxPerAddress,
      });
      old.terminate();
    }
    ws.once('close', () => pending.done(ws));
    const run = (): void => {
      if (ws.readyState !== ws.OPEN) return;
      runAcceptor(ws, this.context(null), this.codec, this.opts.setupTimeoutMs, {
        up: (peer) => {
          pending.done(ws);
          allowFullPayload(ws, this.opts.maxPayload);
          this.peerUp(ws, peer, null);
        },
        failed: (f) => {
          pending.done(ws);
          this.handshakeFailed(f, 'acceptor', addr);
        },
      });
    };
    // An address that sent many wrong cookies is slowed, never refused: a
    // peer with the right cookie behind the same address (NAT, this host)
    // still gets in, a guesser gets one try per socket per second.
    if (this.limiter.blocked(addr, Date.now())) {
      this.refusals.warn('slowed', 'transport-ws: handshakes from an address with many wrong cookies are slowed', { remote: addr, delayMs: SLOWED_HANDSHAKE_MS });
      setTimeout(run, SLOWED_HANDSHAKE_MS).unref();
    } else {
      run();
    }
  }

  /** `quiet`: an automatic reconnection attempt; an unreachable peer is logged at debug, not warn. */
  private dial(url: string, quiet = false): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const ws = new WebSocket(url, {
        perMessageDeflate: false,
        maxPayload: this.opts.handshakeMaxPayload,
        handshakeTimeout: this.opts.setupTimeoutMs,
        ...this.clientTls,
      });
      ws.on('error', () => {});
      this.track(ws);
      const attempt: Attempt = { name: null };
      const onEarlyError = (err: Error): void => {
        this.node.logger[quiet ? 'debug' : 'warn']('transport-ws: connect failed', { url, error: err.message });
        reject(new ConnectError(url, err.message));
      };
      ws.once('error', onEarlyError);
      ws.once('open', () => {
        ws.off('error', onEarlyError);
        if (this.closed) {
          ws.terminate();
          return reject(new TransportClosedError());
        }
        runInitiator(ws, this.context(attempt), this.codec, this.opts.setupTimeoutMs, {
          up: (peer) => {
            allowFullPayload(ws, this.opts.maxPayload);
            this.peerUp(ws, peer, attempt);
            resolve(peer.name);
          },
          failed: (f) => {
            this.releaseAttempt(attempt);
            this.handshakeFailed(f, 'initiator', url);
            if (f.reason === 'self_connect' && !f.byPeer) return resolve(this.node.name);
            // Refused because a connection to that node exists or wins the race: wait for it.
            if (BENIGN.has(f.reason) && f.peerName !== null) {
              this.waitFor(f.peerName).then(() => resolve(f.peerName!), reject);
              return;
            }
            reject(new HandshakeError(url, f.reason, f.detail));
          },
        });
      });
    });
  }

  private releaseAttempt(attempt: Attempt): void {
    if (attempt.name !== null && this.outgoing.get(attempt.name) === attempt) this.outgoing.delete(attempt.name);
  }

  private handshakeFailed(f: HandshakeFailure, role: 'acceptor' | 'initiator', remote: string): void {
    const data = { role, reason: f.reason, detail: f.detail, peer: f.peerName, remote, byPeer: f.byPeer };
    if (BENIGN.has(f.reason)) {
      this.node.logger.debug('transport-ws: connection attempt superseded', data);
      return;
    }
    if (f.reason === 'blocked') {
      // A deliberate refusal (test hook), not an attack: never rate-limited.
      this.node.logger.info('transport-ws: connection refused, peer blocked', data);
      return;
    }
    this.refusals.warn(`handshake:${f.reason}`, 'transport-ws: handshake failed, connection closed', data);
    // Only a wrong cookie is a failed guess: a slow, stalled or evicted socket is not.
    if (role === 'acceptor' && f.reason === 'bad_cookie') {
      const now = Date.now();
      this.limiter.fail(remote, now);
      if (this.limiter.blocked(remote, now)) {
        this.refusals.warn('guessing', 'transport-ws: too many wrong cookies from an address, its handshakes are slowed for a while', { remote });
      }
    }
  }

  private peerUp(ws: WebSocket, info: PeerInfo, attempt: Attempt | null): void {
    if (attempt !== null) this.releaseAttempt(attempt);
    if (this.closed) {
      ws.terminate();
      return;
    }
    const old = this.peers.get(info.name);
    // A new incarnation of a connected node: the old connection is stale.
    if (old !== undefined) {
      old.down('replaced', 'replaced', true);
      this.forgetReports(info.name);
    }
    const conn = new PeerConnection(this, ws, info, attempt !== null, performance.now());
    this.peers.set(info.name, conn);
    const r = this.redials.get(info.name);
    if (r !== undefined) {
      this.node.logger.info('transport-ws: reconnected', { peer: info.name, creation: info.creation, failedAttempts: r.attempts, initiated: attempt !== null });
      this.cancelRedial(info.name);
    }
    // debug, as Erlang's net_kernel is silent on nodeup: an application logs the `nodeup` event
    // its own way (`troupe node` prints one line), and while 32 nodes mesh these are ~500 lines a node.
    // A connection lost (`node down`, below) stays at info.
    this.node.logger.debug('transport-ws: node up', { peer: info.name, creation: info.creation, hidden: info.hidden, initiated: attempt !== null, frameAuth: info.frameAuth });
    this.port.nodeUp(info.name, info.creation, { hidden: conn.hidden, channel: conn });
    this.emit('nodeup', { node: info.name, creation: info.creation, hidden: info.hidden });
    if (conn.hidden) return;
    // Transitive mesh: tell the newcomer our members, and our members the newcomer. Of a pair only
    // the smaller name dials (onMembers), so only the smaller peers hear of the newcomer. The
    // newcomer hears of all our members, the smaller ones too: it dials none of those, but learns
    // whom we are connected to, and leaves them out when it announces us (`acquainted`).
    const members: Member[] = [];
    for (const c of this.peers.values()) {
      if (c === conn || c.hidden || c.url === null) continue;
      members.push({ name: c.name, url: c.url });
      if (c.name < conn.name && conn.url !== null) c.announceMember({ name: conn.name, url: conn.url });
    }
    conn.sendMembers(members);
  }

  private tick(): void {
    const now = performance.now();
    for (const c of this.peers.values()) c.tick(now, this.opts.tickMs, this.opts.tickTimeoutMs);
  }
}
