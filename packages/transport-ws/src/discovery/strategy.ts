import type { Logger } from '@troupe/actor-core';

/** What a strategy that announces this node (local directory, gossip) learns of it when the runner starts. */
export interface DiscoverySelf {
  readonly name: string;
  readonly url: string;
  readonly logger: Logger;
  /**
   * A keyed hash of the cookie (not the cookie): announcements carry it so
   * nodes skip peers with another cookie instead of failing handshakes with them.
   */
  readonly cookieFingerprint: string;
}

/**
 * A source of cluster members (libcluster's "strategy"): the runner asks it
 * every `intervalMs` which nodes should be in the cluster and connects to
 * those it is not connected to. Strategies only find addresses; connecting,
 * retrying and logging are the runner's job, so a strategy stays small.
 */
export interface DiscoveryStrategy {
  /** Shown in log lines and events. */
  readonly name: string;
  /** ms between two rounds. */
  readonly intervalMs: number;
  /** Disconnect nodes whose URL disappears from the targets (default false: a live connection is kept). */
  readonly disconnectRemoved?: boolean;
  /** The `ws://` / `wss://` URLs of the nodes to be connected to now. Throwing fails this round (logged, retried with backoff). */
  targets(): readonly string[] | Promise<readonly string[]>;
  /** Called once before the first round (announce this node); a throw is logged and the strategy is not run. */
  start?(self: DiscoverySelf): void | Promise<void>;
  /** Called when the runner stops (the transport closes): withdraw the announcement, release sockets. */
  stop?(): void;
}

/** `ws://host:port`, with IPv6 hosts bracketed. */
export function nodeUrl(scheme: 'ws' | 'wss', host: string, port: number): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${scheme}://${h}:${port}`;
}
