import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CookieError } from './errors.js';

export interface CookieSource {
  /** The cookie itself; wins over everything else. */
  cookie?: string;
  /** The cookie file; default `TROUPE_COOKIE_FILE`, else `~/.troupe.cookie`. */
  cookieFile?: string;
  /** Where `TROUPE_COOKIE` / `TROUPE_COOKIE_FILE` are read; default `process.env`. */
  env?: Record<string, string | undefined>;
}

export function defaultCookieFile(env: Record<string, string | undefined> = process.env): string {
  return env.TROUPE_COOKIE_FILE ?? join(homedir(), '.troupe.cookie');
}

/**
 * The shared secret, like Erlang's cookie: the option, else `TROUPE_COOKIE`,
 * else the per-user cookie file, created on first use with 32 random bytes
 * (crypto.randomBytes: never a guessable PRNG) and mode 0600. A cookie file
 * that others can read is refused, as Erlang does: it would leak the secret.
 */
export function resolveCookie(src: CookieSource = {}): string {
  if (src.cookie !== undefined) return checked(src.cookie, 'the cookie option');
  const env = src.env ?? process.env;
  const fromEnv = env.TROUPE_COOKIE;
  if (fromEnv !== undefined && fromEnv !== '') return checked(fromEnv, 'TROUPE_COOKIE');
  return readOrCreateCookieFile(src.cookieFile ?? defaultCookieFile(env));
}

function checked(cookie: string, where: string): string {
  if (typeof cookie !== 'string' || cookie.length === 0) throw new CookieError(`${where} is empty`);
  return cookie;
}

export function readOrCreateCookieFile(path: string): string {
  let fd: number | undefined;
  try {
    // 'wx': create only if absent, so two nodes starting at once never overwrite each other's cookie.
    fd = openSync(path, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new CookieError(`cannot create cookie file ${path}: ${(e as Error).message}`);
  }
  if (fd !== undefined) {
    try {
      writeSync(fd, randomBytes(32).toString('base64url') + '\n');
    } finally {
      closeSync(fd);
    }
  }
  let mode: number;
  let text: string;
  try {
    mode = statSync(path).mode;
    text = readFileSync(path, 'utf8').trim();
  } catch (e) {
    throw new CookieError(`cannot read cookie file ${path}: ${(e as Error).message}`);
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new CookieError(`cookie file ${path} must be accessible by its owner only (mode ${(mode & 0o777).toString(8)}; run chmod 600 ${path})`);
  }
  if (text.length === 0) throw new CookieError(`cookie file ${path} is empty`);
  return text;
}
