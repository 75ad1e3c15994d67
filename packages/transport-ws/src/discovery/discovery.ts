import { EventEmitter } from 'eventemitter3';
import type { Logger } from '@troupe/actor-core';
import type { DiscoveryStrategy } from './strategy.js';
import { backoffDelay, clampJitter, type BackoffOptions } from '../backoff.js';
import { HandshakeError, TRANSIENT_HANDSHAKE_REASONS } from '../errors.js';

/** What the runner needs of a transport (a `WsTransport` is one). */
export interface DiscoveryHost {
  readonly url: string;
  readonly node: { readonly name: string; readonly logger: Logger };
  /** See `DiscoverySelf.cookieFingerprint`; absent: strategies that announce use ''. */
  readonly cookieFingerprint?: string;
  connect(url: string): Promise<string>;
  isConnected(name: string): boolean;
  disconnect(name: string): boolean;
}

/** Retry backoff of failed lookups and dials (defaults: 500 ms doubling to 30 s, jitter 0.2). */
export type DiscoveryOptions = BackoffOptions;

export interface DiscoveryEvents {
  connected: (e: { strategy: string; url: string; node: string }) => void;
  failed: (e: { strategy: string; url: string | null; error: string; retryInMs: number }) => void;
  removed: (e: { strategy: string; url: string; node: string | null; disconnected: boolean }) => void;
}

/** One URL a strategy reported. */
interface Target {
  node: string | null;
  failures: number;
  /** The last failure's message, until a dial succeeds. */
  error: string | null;
  /** The last refusal that will not pass by itself (`bad_cookie`, ...) since the last success. */
  refused: string | null;
  notBefore: number;
  dialling: boolean;
}

/** One strategy's loop. */
interface Loop {
  readonly strategy: DiscoveryStrategy;
  readonly targets: Map<string, Target>;
  timer: NodeJS.Timeout | null;
  failures: number;
}

/**
 * Runs discovery strategies against a transport: each round asks a strategy
 * for its targets and dials those not connected. Rounds never overlap; a
 * failed lookup or dial is logged and retried with exponential backoff; no
 * failure escapes (discovery must never take a node down). Stops by itself
 * once the transport is closed.
 */
export class Discovery extends EventEmitter<DiscoveryEvents> {
  private readonly loops: Loop[];
  private readonly backoff: Required<BackoffOptions>;
  private stopped = false;

  constructor(
    private readonly host: DiscoveryHost,
    strategies: readonly DiscoveryStrategy[],
    opts: DiscoveryOptions = {},
  ) {
    super();
    this.loops = strategies.map((strategy) => ({ strategy, targets: new Map(), timer: null, failures: 0 }));
    this.backoff = { initialMs: opts.initialMs ?? 500, maxMs: opts.maxMs ?? 30_000, jitter: clampJitter(opts.jitter ?? 0.2) };
  }

  /** Starts every strategy (the first round runs at once). */
  start(): this {
    for (const l of this.loops) void this.begin(l);
    return this;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const l of this.loops) {
      if (l.timer !== null) clearTimeout(l.timer);
      l.timer = null;
      try {
        l.strategy.stop?.();
      } catch (e) {
        this.host.node.logger.warn('discovery: strategy failed to stop', { strategy: l.strategy.name, error: e instanceof Error ? e.message : String(e) });
      }
    }
  }

  private async begin(l: Loop): Promise<void> {
    if (l.strategy.start !== undefined) {
      const h = this.host;
      try {
        await l.strategy.start({ name: h.node.name, url: h.url, logger: h.node.logger, cookieFingerprint: h.cookieFingerprint ?? '' });
      } catch (e) {
        h.node.logger.error('discovery: strategy failed to start, not run', { strategy: l.strategy.name, error: e instanceof Error ? e.message : String(e) });
        return;
      }
      // Stopped while it started: what it just opened is released now.
      if (this.stopped) l.strategy.stop?.();
    }
    await this.round(l);
  }

  get running(): boolean {
    return !this.stopped;
  }

  /** The URLs each strategy reported last, with the node each resolved to. */
  targets(): { strategy: string; url: string; node: string | null; failures: number }[] {
    return this.loops.flatMap((l) => [...l.targets].map(([url, t]) => ({ strategy: l.strategy.name, url, node: t.node, failures: t.failures })));
  }

  /** Targets whose last dial failed and that are not connected: what `health()` reports. */
  failing(): { strategy: string; url: string; error: string; refused: string | null }[] {
    const out: { strategy: string; url: string; error: string; refused: string | null }[] = [];
    for (const l of this.loops) {
      for (const [url, t] of l.targets) {
        if (t.error !== null && !(t.node !== null && this.host.isConnected(t.node))) out.push({ strategy: l.strategy.name, url, error: t.error, refused: t.refused });
      }
    }
    return out;
  }

  /** The retry delay after `failures` (≥ 1) consecutive failures. */
  private delay(failures: number): number {
    return backoffDelay(failures - 1, this.backoff);
  }

  private schedule(l: Loop, ms: number): void {
    if (this.stopped) return;
    l.timer = setTimeout(() => void this.round(l), ms);
    l.timer.unref();
  }

  private async round(l: Loop): Promise<void> {
    l.timer = null;
    if (this.stopped) return;
    const log = this.host.node.logger;
    let urls: readonly string[];
    try {
      urls = await l.strategy.targets();
      if (!Array.isArray(urls)) throw new TypeError('targets() must return an array of URLs');
      l.failures = 0;
    } catch (e) {
      l.failures++;
      const retryInMs = Math.max(l.strategy.intervalMs, this.delay(l.failures));
      const error = e instanceof Error ? e.message : String(e);
      log.warn('discovery: lookup failed, will retry', { strategy: l.strategy.name, error, retryInMs });
      this.emit('failed', { strategy: l.strategy.name, url: null, error, retryInMs });
      this.schedule(l, retryInMs);
      return;
    }
    if (this.stopped) return;
    this.prune(l, new Set(urls));
    const now = Date.now();
    for (const url of urls) {
      if (url === this.host.url) continue;
      let t = l.targets.get(url);
      if (t === undefined) l.targets.set(url, (t = { node: null, failures: 0, error: null, refused: null, notBefore: 0, dialling: false }));
      if (t.dialling || (t.node !== null && this.host.isConnected(t.node)) || now < t.notBefore) continue;
      this.dial(l, url, t);
    }
    this.schedule(l, l.strategy.intervalMs);
  }

  /** Targets that disappeared: forgotten (no more retries), and disconnected if the strategy asks. */
  private prune(l: Loop, now: Set<string>): void {
    for (const [url, t] of l.targets) {
      if (now.has(url)) continue;
      l.targets.delete(url);
      const disconnect = l.strategy.disconnectRemoved === true && t.node !== null && this.host.isConnected(t.node);
      if (disconnect) this.host.disconnect(t.node!);
      this.host.node.logger.info('discovery: target removed', { strategy: l.strategy.name, url, node: t.node, disconnected: disconnect });
      this.emit('removed', { strategy: l.strategy.name, url, node: t.node, disconnected: disconnect });
    }
  }

  private dial(l: Loop, url: string, t: Target): void {
    t.dialling = true;
    const log = this.host.node.logger;
    this.host.connect(url).then(
      (node) => {
        t.dialling = false;
        if (this.stopped) return;
        t.node = node;
        t.failures = 0;
        t.error = null;
        t.refused = null;
        t.notBefore = 0;
        log.info('discovery: connected', { strategy: l.strategy.name, url, node });
        this.emit('connected', { strategy: l.strategy.name, url, node });
      },
      (e: unknown) => {
        t.dialling = false;
        if (this.stopped) return;
        if ((e as { code?: unknown })?.code === 'TROUPE_ERR_TRANSPORT_CLOSED') {
          this.stop();
          return;
        }
        t.failures++;
        const retryInMs = this.delay(t.failures);
        t.notBefore = Date.now() + retryInMs;
        const error = e instanceof Error ? e.message : String(e);
        const refused = e instanceof HandshakeError && !TRANSIENT_HANDSHAKE_REASONS.has(e.reason) ? e.reason : null;
        t.error = refused !== null ? `refused (${refused})` : error;
        if (refused !== null && t.refused !== refused) {
          // Retrying will not fix a wrong cookie: said once at error level, naming the seed and the reason.
          log.error('discovery: a seed refused this node', { strategy: l.strategy.name, url, reason: refused, error, retryInMs });
        } else {
          log.warn('discovery: connect failed, will retry', { strategy: l.strategy.name, url, error, failures: t.failures, retryInMs });
        }
        // Kept through transient failures in between (the seed rate-limiting us): said once until a dial succeeds.
        if (refused !== null) t.refused = refused;
        this.emit('failed', { strategy: l.strategy.name, url, error, retryInMs });
      },
    );
  }
}

/** Starts `strategies` against a transport; `stop()` it (or close the transport) to end it. */
export function startDiscovery(host: DiscoveryHost, strategies: readonly DiscoveryStrategy[], opts?: DiscoveryOptions): Discovery {
  return new Discovery(host, strategies, opts).start();
}
