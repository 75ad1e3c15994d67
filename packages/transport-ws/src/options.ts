import type { WireCodec } from './codec.js';
import type { RateLimitOptions } from './rate-limiter.js';
import type { DiscoveryOptions } from './discovery/discovery.js';
import type { DiscoveryStrategy } from './discovery/strategy.js';
import { clampJitter, type BackoffOptions } from './backoff.js';
import { FRAME_AUTH_MODES, isFrameAuth, type FrameAuth } from './frame-auth/mode.js';

/** `wss://`: the server's certificate and key (PEM); clients verify peers against `ca`. */
export interface TlsOptions {
  cert: string | Buffer;
  key: string | Buffer;
  /** Trusted CAs for verifying peers (e.g. your own CA, or a self-signed cert); default: Node's roots. */
  ca?: string | Buffer | (string | Buffer)[];
  /** Verify the peer's certificate when dialling (default true). */
  rejectUnauthorized?: boolean;
}

export interface WsTransportOptions {
  /** Interface to listen on (default `127.0.0.1`). */
  host?: string;
  /** Port (default 0: an ephemeral port; read `t.url`). */
  port?: number;
  /** The URL peers should dial, if not `ws(s)://host:port` (behind NAT, or when host is 0.0.0.0). */
  advertiseUrl?: string;
  /** The cookie; else `TROUPE_COOKIE`, else the cookie file. */
  cookie?: string;
  /** The cookie file; default `TROUPE_COOKIE_FILE`, else `~/.troupe.cookie` (created 0600 if absent). */
  cookieFile?: string;
  /**
   * Accept a cookie under 128 bits or a common word (default false: such a
   * cookie fails `start` with a `CookieError`). For tests and throwaway local clusters only.
   */
  allowInsecureCookie?: boolean;
  /** A hidden node connects only where asked, is not told to other members, and does not join the mesh. */
  hidden?: boolean;
  /** Tick interval in ms (default 1000): a tick goes out when nothing else was sent for this long. */
  tickMs?: number;
  /** A peer silent this long (ms) is down with `net_tick_timeout` (default 4 × tickMs; checked once per tickMs: down 4–5 s after the last frame). */
  tickTimeoutMs?: number;
  /** Connection setup (WebSocket upgrade + handshake) timeout in ms (default 7000, Erlang's `net_setuptime`). */
  setupTimeoutMs?: number;
  /** Largest WebSocket message accepted, in bytes (default 8 MiB); a larger one closes the connection. */
  maxPayload?: number;
  /** Per-peer bound on bytes written but not yet sent (default 16 MiB); exceeding it fails the connection. */
  maxBufferedBytes?: number;
  /** Signals per Data frame before an early flush (default 1000). */
  maxBatch?: number;
  /** TLS: listen and dial with `wss://`. */
  tls?: TlsOptions;
  /** Failed handshakes (wrong cookie) per remote address before its next handshakes are slowed (default 10 per 10 s). */
  rateLimit?: RateLimitOptions;
  /**
   * Largest WebSocket message accepted before the handshake completes, in
   * bytes (default 4096; handshake frames are a few hundred bytes): an
   * unauthenticated socket cannot make this node buffer `maxPayload`.
   */
  handshakeMaxPayload?: number;
  /**
   * Sockets whose handshake has not completed, at most (default 256); one
   * more evicts the oldest. Per remote address: `maxPendingHandshakesPerAddress` (default 64).
   */
  maxPendingHandshakes?: number;
  maxPendingHandshakesPerAddress?: number;
  /**
   * Visible peers this node connects to because a member announced them
   * (connected, queued and being dialled together; default 256): entries
   * beyond are ignored and logged. Explicit `connect` calls and inbound
   * connections are not limited by it.
   */
  maxPeers?: number;
  /** Announced members dialled at once (default 8); the rest wait in a queue bounded by `maxPeers`. */
  maxConcurrentDials?: number;
  /** An HTTP request on the mesh port (the WebSocket upgrade included) must arrive whole within this many ms (default 5000); one that does not is dropped within twice that. */
  httpRequestTimeoutMs?: number;
  /**
   * How frames after the handshake are protected (default `'aes-256-gcm'`):
   * every WebSocket message is sealed with AES-256-GCM under keys derived
   * per connection and direction from the cookie and the handshake, so a
   * relay or on-path attacker without the cookie can neither read, inject,
   * alter, replay, reorder nor drop frames unnoticed (close code 4020).
   * `'none'` turns this off (insecure: frames in clear, unauthenticated).
   * Both ends must agree: a mismatch fails the handshake (`frame_auth_mismatch`, 4021).
   */
  frameAuth?: FrameAuth;
  /** The signal codec (default actor-core's `SignalCodec`). */
  codec?: WireCodec;
  /** Discovery strategies run from start to close (`StaticSeeds`, `DnsPoll`, your own). */
  discovery?: readonly DiscoveryStrategy[];
  /** Retry backoff of the discovery runner. */
  discoveryOptions?: DiscoveryOptions;
  /**
   * Redial a visible peer lost to a tick timeout or a closed socket (default on:
   * 250 ms doubling to 5 s, for up to 5 min); `false` turns it off.
   */
  reconnect?: ReconnectOptions | false;
}

/** Redial backoff (defaults: 250 ms doubling to 5 s, jitter 0.25) and when to stop. */
export interface ReconnectOptions extends BackoffOptions {
  /** Stop retrying this long after the nodedown (ms, default 300 000). */
  giveUpMs?: number;
}

export interface ResolvedOptions {
  host: string;
  port: number;
  hidden: boolean;
  tickMs: number;
  tickTimeoutMs: number;
  setupTimeoutMs: number;
  maxPayload: number;
  maxBufferedBytes: number;
  maxBatch: number;
  handshakeMaxPayload: number;
  maxPendingHandshakes: number;
  maxPendingHandshakesPerAddress: number;
  httpRequestTimeoutMs: number;
  maxPeers: number;
  maxConcurrentDials: number;
  frameAuth: FrameAuth;
  /** null: reconnection off. */
  reconnect: Required<ReconnectOptions> | null;
}

function positive(name: string, v: number | undefined, dflt: number, min = 1): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw new RangeError(`${name} must be a number ≥ ${min}, got ${String(v)}`);
  return v;
}

export function resolveOptions(o: WsTransportOptions): ResolvedOptions {
  const tickMs = positive('tickMs', o.tickMs, 1000, 10);
  return {
    host: o.host ?? '127.0.0.1',
    port: o.port === undefined ? 0 : positive('port', o.port, 0, 0),
    hidden: o.hidden ?? false,
    tickMs,
    tickTimeoutMs: positive('tickTimeoutMs', o.tickTimeoutMs, 4 * tickMs, 2 * tickMs),
    setupTimeoutMs: positive('setupTimeoutMs', o.setupTimeoutMs, 7000, 10),
    maxPayload: positive('maxPayload', o.maxPayload, 8 * 1024 * 1024, 1024),
    maxBufferedBytes: positive('maxBufferedBytes', o.maxBufferedBytes, 16 * 1024 * 1024, 1024),
    maxBatch: positive('maxBatch', o.maxBatch, 1000, 1),
    handshakeMaxPayload: positive('handshakeMaxPayload', o.handshakeMaxPayload, 4096, 1024),
    maxPendingHandshakes: positive('maxPendingHandshakes', o.maxPendingHandshakes, 256, 1),
    maxPendingHandshakesPerAddress: positive('maxPendingHandshakesPerAddress', o.maxPendingHandshakesPerAddress, 64, 1),
    maxPeers: positive('maxPeers', o.maxPeers, 256, 1),
    maxConcurrentDials: positive('maxConcurrentDials', o.maxConcurrentDials, 8, 1),
    httpRequestTimeoutMs: positive('httpRequestTimeoutMs', o.httpRequestTimeoutMs, 5000, 100),
    frameAuth: resolveFrameAuth(o.frameAuth),
    reconnect: resolveReconnect(o.reconnect),
  };
}

function resolveFrameAuth(v: unknown): FrameAuth {
  if (v === undefined) return 'aes-256-gcm';
  if (!isFrameAuth(v)) throw new RangeError(`frameAuth must be one of ${FRAME_AUTH_MODES.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(v)}`);
  return v;
}

function resolveReconnect(r: ReconnectOptions | false | undefined): Required<ReconnectOptions> | null {
  if (r === false) return null;
  const initialMs = positive('reconnect.initialMs', r?.initialMs, 250, 1);
  const maxMs = positive('reconnect.maxMs', r?.maxMs, Math.max(5000, initialMs), initialMs);
  return { initialMs, maxMs, jitter: clampJitter(r?.jitter ?? 0.25), giveUpMs: positive('reconnect.giveUpMs', r?.giveUpMs, 300_000, 1) };
}
