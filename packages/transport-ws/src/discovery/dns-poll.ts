import { promises as dns } from 'node:dns';
import { nodeUrl, type DiscoveryStrategy } from './strategy.js';

/** What a resolver returns: addresses (the strategy's `port`), or `{ host, port }` pairs. */
export type DnsAnswer = string | { host: string; port?: number };

export interface DnsPollOptions {
  /** The DNS name whose A records are the members (e.g. a Kubernetes headless service). */
  name: string;
  /** The port every member listens on (unless the resolver gives one per address). */
  port: number;
  /** `ws` (default) or `wss`. */
  scheme?: 'ws' | 'wss';
  /** ms between lookups (default 5000). */
  intervalMs?: number;
  /** Default `dns.promises.resolve4`; a stub in tests. */
  resolve?: (name: string) => Promise<readonly DnsAnswer[]>;
  /** Disconnect nodes whose address disappears (libcluster's DNSPoll does; default false). */
  disconnectRemoved?: boolean;
}

/** Polls the A records of a name and connects to every address (libcluster's DNSPoll). */
export class DnsPoll implements DiscoveryStrategy {
  readonly name: string;
  readonly intervalMs: number;
  readonly disconnectRemoved: boolean;
  private readonly resolve: (name: string) => Promise<readonly DnsAnswer[]>;

  constructor(private readonly opts: DnsPollOptions) {
    if (typeof opts.name !== 'string' || opts.name.length === 0) throw new TypeError('DnsPoll: name must be a non-empty string');
    if (!Number.isInteger(opts.port) || opts.port <= 0 || opts.port > 65535) throw new RangeError(`DnsPoll: bad port ${String(opts.port)}`);
    this.name = `dns_poll:${opts.name}`;
    this.intervalMs = opts.intervalMs ?? 5000;
    this.disconnectRemoved = opts.disconnectRemoved ?? false;
    this.resolve = opts.resolve ?? ((n) => dns.resolve4(n));
  }

  async targets(): Promise<readonly string[]> {
    const answers = await this.resolve(this.opts.name);
    const scheme = this.opts.scheme ?? 'ws';
    return answers.map((a) => (typeof a === 'string' ? nodeUrl(scheme, a, this.opts.port) : nodeUrl(scheme, a.host, a.port ?? this.opts.port)));
  }
}
