/**
 * What keeps web pages out. A page on another site can make the browser send
 * a request to the gateway (a "simple" cross-origin POST needs no CORS
 * preflight), or rebind its own DNS name to the gateway's address so the
 * browser treats the gateway as same-origin. Three checks refuse both:
 *
 * - `Host` must be an IP literal, `localhost`, this machine's hostname, the
 *   listening host, or an allowed name. A rebinding page can only send its
 *   own DNS name; a name we do not serve is refused.
 * - `Origin`, when a browser sends one, must be the gateway's own
 *   (`http://<Host>`) or an allowed origin. `null` (sandboxed frames, files)
 *   is refused.
 * - `POST /a2a` takes only `application/json` bodies, which a page cannot
 *   send across origins without a preflight the gateway never answers.
 */
import { isIP } from 'node:net';
import { hostname } from 'node:os';

export interface BrowserGuardOptions {
  /** The listening host. */
  host: string;
  /** Further names a `Host` header may carry (`*`: any); default `TROUPE_GATEWAY_ALLOWED_HOSTS` (comma-separated). */
  allowedHosts?: readonly string[] | undefined;
  /** Further origins (`https://ui.example.com`) allowed to call; default `TROUPE_GATEWAY_ALLOWED_ORIGINS` (comma-separated). */
  allowedOrigins?: readonly string[] | undefined;
  env?: Record<string, string | undefined>;
}

export interface BrowserGuard {
  /** Why this request is refused (403), or null. */
  refuse(hostHeader: string | undefined, originHeader: string | undefined): string | null;
}

const list = (v: string | undefined): string[] => (v ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');

export function browserGuard(o: BrowserGuardOptions): BrowserGuard {
  const env = o.env ?? process.env;
  const hosts = new Set(['localhost', hostname(), o.host, ...(o.allowedHosts ?? list(env['TROUPE_GATEWAY_ALLOWED_HOSTS']))].map((h) => h.toLowerCase()));
  const origins = new Set((o.allowedOrigins ?? list(env['TROUPE_GATEWAY_ALLOWED_ORIGINS'])).map((x) => x.toLowerCase().replace(/\/$/, '')));
  const anyHost = hosts.has('*');
  const hostAllowed = (h: string): boolean => {
    const name = h.startsWith('[') ? h.slice(1, h.indexOf(']')) : h.replace(/:\d*$/, '');
    return anyHost || isIP(name) !== 0 || hosts.has(name.toLowerCase());
  };
  return {
    refuse(hostHeader, originHeader) {
      // HTTP/1.0 clients may omit Host; browsers never do.
      if (hostHeader !== undefined && !hostAllowed(hostHeader)) {
        return `Host '${hostHeader}' is not served here (DNS rebinding?); allowed: IP addresses, ${[...hosts].join(', ')}`;
      }
      if (originHeader === undefined) return null;
      const origin = originHeader.toLowerCase();
      if (hostHeader !== undefined && origin === `http://${hostHeader.toLowerCase()}`) return null;
      if (origins.has(origin)) return null;
      return `Origin '${originHeader}' may not call this gateway (cross-site requests are refused)`;
    },
  };
}

/** `application/json`, with or without parameters (`; charset=utf-8`). */
export function isJsonContentType(header: string | undefined): boolean {
  // The exact form, as nearly every client sends it, without splitting the header.
  return header === 'application/json' || (header !== undefined && header.split(';')[0]!.trim().toLowerCase() === 'application/json');
}
