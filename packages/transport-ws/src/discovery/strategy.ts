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
}

/** `ws://host:port`, with IPv6 hosts bracketed. */
export function nodeUrl(scheme: 'ws' | 'wss', host: string, port: number): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${scheme}://${h}:${port}`;
}
