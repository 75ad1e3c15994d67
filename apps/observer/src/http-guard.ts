import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** A fresh 256-bit token, URL-safe. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The gateway's rules applied to the observer: a request must carry the
 * token (`Authorization: Bearer …` or `?token=`; the live channel and the
 * first page load can only use the query), name this server in `Host` (so a
 * DNS-rebound name is refused), and if it has an `Origin`, come from this
 * server's own origin (so another page cannot drive it).
 */
export class HttpGuard {
  private readonly token: Buffer;
  private readonly hosts: Set<string>;

  constructor(token: string, bindHost: string, port: number) {
    this.token = Buffer.from(token);
    const names = new Set(['127.0.0.1', 'localhost', '[::1]', bindHost.includes(':') && !bindHost.startsWith('[') ? `[${bindHost}]` : bindHost]);
    this.hosts = new Set([...names].map((h) => `${h}:${port}`));
  }

  /** Null if allowed, else the status and reason of the refusal. */
  check(req: IncomingMessage, url: URL): { status: number; error: string } | null {
    const host = req.headers.host;
    if (host === undefined || !this.hosts.has(host.toLowerCase())) return { status: 421, error: 'unexpected Host header' };
    const origin = req.headers.origin;
    // An opaque origin (`null`: sandboxed frames, file pages) is foreign too.
    if (origin !== undefined && !(origin.startsWith('http://') && this.hosts.has(origin.slice(7).toLowerCase()))) return { status: 403, error: 'cross-origin request refused' };
    const auth = req.headers.authorization;
    const given = auth?.startsWith('Bearer ') ? auth.slice(7) : url.searchParams.get('token');
    if (given === null || !this.matches(given)) return { status: 401, error: 'missing or wrong token: open the URL the observer printed' };
    return null;
  }

  private matches(given: string): boolean {
    const b = Buffer.from(given);
    return b.length === this.token.length && timingSafeEqual(b, this.token);
  }
}
