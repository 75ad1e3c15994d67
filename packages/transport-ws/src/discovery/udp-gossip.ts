import { createSocket, type Socket } from 'node:dgram';
import type { DiscoverySelf, DiscoveryStrategy } from './strategy.js';

export interface UdpGossipOptions {
  /** Multicast group to announce on and listen to (default 233.252.1.32, libcluster's Gossip default). */
  address?: string;
  /** UDP port (default 45892). */
  port?: number;
  /** Local interface address of the group (e.g. 127.0.0.1 to stay on the loopback); default: the system's choice. */
  interface?: string;
  /** Multicast TTL (default 1: this LAN segment only). */
  ttl?: number;
  /** ms between announcements and rounds (default 2000). */
  intervalMs?: number;
  /** A node not heard from for this long is forgotten (default 3 intervals). */
  expireMs?: number;
}

/** At most this many peers are remembered: a flood of forged announcements cannot grow memory. */
export const MAX_GOSSIP_PEERS = 1024;
const MAX_DATAGRAM = 1024;

interface Heard {
  url: string;
  at: number;
}

/**
 * Nodes on a LAN find each other (libcluster's Gossip): every node
 * multicasts `{ name, url, cookie fingerprint }` each interval and dials the
 * nodes it hears with its own fingerprint. Silence for `expireMs` forgets a
 * node. Announcements are not authenticated: at worst they make this node
 * dial a URL, and the cookie handshake decides who joins.
 */
export class UdpGossip implements DiscoveryStrategy {
  readonly name: string;
  readonly intervalMs: number;
  private readonly address: string;
  private readonly port: number;
  private readonly expireMs: number;
  private socket: Socket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private self: DiscoverySelf | null = null;
  private readonly heard = new Map<string, Heard>();

  constructor(private readonly opts: UdpGossipOptions = {}) {
    this.address = opts.address ?? '233.252.1.32';
    this.port = opts.port ?? 45892;
    if (!Number.isInteger(this.port) || this.port <= 0 || this.port > 65535) throw new RangeError(`UdpGossip: bad port ${String(opts.port)}`);
    this.intervalMs = opts.intervalMs ?? 2000;
    this.expireMs = opts.expireMs ?? 3 * this.intervalMs;
    this.name = `gossip:${this.address}:${this.port}`;
  }

  async start(self: DiscoverySelf): Promise<void> {
    const s = createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(this.port, () => {
        s.off('error', reject);
        resolve();
      });
    });
    const iface = this.opts.interface;
    s.addMembership(this.address, iface);
    if (iface !== undefined) s.setMulticastInterface(iface);
    s.setMulticastLoopback(true);
    s.setMulticastTTL(this.opts.ttl ?? 1);
    s.on('error', (e) => self.logger.warn('discovery: gossip socket error', { error: e.message }));
    s.on('message', (m) => this.hear(m));
    s.unref();
    this.socket = s;
    this.self = self;
    this.announce();
    this.timer = setInterval(() => this.announce(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.socket?.close();
    this.socket = null;
    this.heard.clear();
  }

  targets(): readonly string[] {
    const now = Date.now();
    const urls: string[] = [];
    for (const [name, h] of this.heard) {
      if (now - h.at > this.expireMs) this.heard.delete(name);
      else urls.push(h.url);
    }
    return urls;
  }

  private announce(): void {
    const self = this.self;
    if (self === null || this.socket === null) return;
    const msg = Buffer.from(JSON.stringify({ v: 1, name: self.name, url: self.url, fp: self.cookieFingerprint }));
    this.socket.send(msg, this.port, this.address, (e) => {
      if (e) self.logger.debug('discovery: gossip announcement not sent', { error: e.message });
    });
  }

  private hear(m: Buffer): void {
    const self = this.self;
    if (self === null || m.length > MAX_DATAGRAM) return;
    let a: { v?: unknown; name?: unknown; url?: unknown; fp?: unknown };
    try {
      a = JSON.parse(m.toString('utf8')) as typeof a;
    } catch {
      return;
    }
    if (a === null || typeof a !== 'object' || a.v !== 1 || typeof a.name !== 'string' || typeof a.url !== 'string' || !/^wss?:\/\/[^\s]+$/.test(a.url)) return;
    if (a.name === self.name || a.fp !== self.cookieFingerprint) return;
    if (!this.heard.has(a.name) && this.heard.size >= MAX_GOSSIP_PEERS) return;
    // Re-inserted: the map stays in order of last announcement.
    this.heard.delete(a.name);
    this.heard.set(a.name, { url: a.url, at: Date.now() });
  }
}
