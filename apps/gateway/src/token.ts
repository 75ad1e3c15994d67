/**
 * The gateway's bearer token: who may change state over HTTP. Required
 * whenever the gateway listens beyond loopback (anyone on the network could
 * otherwise start and stop agents), and wherever one is configured.
 *
 * Where it comes from, first match wins: the `token` option;
 * `TROUPE_GATEWAY_TOKEN`; the token file (`tokenFile`, else
 * `TROUPE_GATEWAY_TOKEN_FILE`); and, beyond loopback only, the default file
 * `~/.troupe.gateway-token`. A file that does not exist is created with 256
 * random bits, mode 0600, like the cookie file; one others can read is refused.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { isIP } from 'node:net';

/** Shortest token accepted: 32 characters (e.g. `openssl rand -hex 16`, 128 bits). */
export const MIN_TOKEN_LENGTH = 32;

export interface TokenSource {
  token?: string;
  tokenFile?: string;
  /** Where `TROUPE_GATEWAY_TOKEN` / `TROUPE_GATEWAY_TOKEN_FILE` are read; default `process.env`. */
  env?: Record<string, string | undefined>;
}

export interface ResolvedToken {
  token: string;
  /** `the token option`, `TROUPE_GATEWAY_TOKEN`, or the file's path. */
  source: string;
  /** The file was created now, with a generated token. */
  created: boolean;
}

export function defaultTokenFile(): string {
  return join(homedir(), '.troupe.gateway-token');
}

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and `localhost`: only this machine can connect. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/** The token in force for a gateway listening on `host`, or null when none is required. Throws a clear error. */
export function resolveGatewayToken(host: string, src: TokenSource = {}): ResolvedToken | null {
  const env = src.env ?? process.env;
  if (src.token !== undefined) return { token: checked(src.token, 'the token option'), source: 'the token option', created: false };
  const fromEnv = env['TROUPE_GATEWAY_TOKEN'];
  if (fromEnv !== undefined && fromEnv !== '') return { token: checked(fromEnv, 'TROUPE_GATEWAY_TOKEN'), source: 'TROUPE_GATEWAY_TOKEN', created: false };
  const file = src.tokenFile ?? (env['TROUPE_GATEWAY_TOKEN_FILE'] || undefined) ?? (isLoopback(host) ? undefined : defaultTokenFile());
  return file === undefined ? null : readOrCreate(file);
}

function checked(token: string, where: string): string {
  if (typeof token !== 'string' || token.trim().length < MIN_TOKEN_LENGTH) {
    throw new TypeError(`gateway: ${where} must be at least ${MIN_TOKEN_LENGTH} characters (e.g. openssl rand -hex 16)`);
  }
  if (/\s/.test(token.trim())) throw new TypeError(`gateway: ${where} must not contain whitespace`);
  return token.trim();
}

function readOrCreate(path: string): ResolvedToken {
  let created = false;
  try {
    // 'wx': create only if absent, so two gateways starting at once never overwrite each other's token.
    const fd = openSync(path, 'wx', 0o600);
    try {
      writeSync(fd, randomBytes(32).toString('base64url') + '\n');
      created = true;
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`gateway: cannot create token file ${path}: ${(e as Error).message}`);
  }
  let text: string;
  try {
    if (process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0) {
      throw new Error(`gateway: token file ${path} must be accessible by its owner only (run chmod 600 ${path})`);
    }
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw (e as Error).message.startsWith('gateway:') ? e : new Error(`gateway: cannot read token file ${path}: ${(e as Error).message}`);
  }
  return { token: checked(text, `the token in ${path}`), source: path, created };
}

/** Whether an `Authorization` header carries `token`; constant time in the token's content. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  if (m === null) return false;
  // Digests first: equal lengths for timingSafeEqual, and no early exit on a length mismatch.
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(m[1]!), digest(token));
}
