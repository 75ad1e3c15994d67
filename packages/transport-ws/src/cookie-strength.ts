import { CookieError } from './errors.js';

/** The least a cookie must carry, estimated as below (a generated cookie has 256). */
export const MIN_COOKIE_BITS = 128;

/** Words and passwords people put in a cookie; refused at any length. */
const COMMON = new Set([
  'secret', 'password', 'passw0rd', 'cookie', 'changeme', 'change-me', 'troupe', 'erlang', 'admin', 'test', 'testing',
  'default', 'letmein', 'qwerty', 'dev', 'development', 'production', 'prod', 'cluster', 'mesh', 'node', 'nodes',
  'mysecret', 'supersecret', 'topsecret', 'secretcookie', 'clustercookie', 'shared-secret', 'sharedsecret',
]);

/**
 * An upper estimate of a cookie's entropy: its length times log2 of the
 * alphabet its character classes span (lower, upper, digits, other). A
 * random cookie scores about what it has (a little more); a word, a short
 * string or fewer than 8 distinct characters score under 128, so are refused. It cannot see a long passphrase made
 * of words: use a generated cookie.
 */
export function cookieBits(cookie: string): number {
  let alphabet = 0;
  if (/[a-z]/.test(cookie)) alphabet += 26;
  if (/[A-Z]/.test(cookie)) alphabet += 26;
  if (/[0-9]/.test(cookie)) alphabet += 10;
  if (/[^a-zA-Z0-9]/.test(cookie)) alphabet += 33;
  // A string of a few characters repeated carries next to nothing.
  if (new Set(cookie).size < 8) return 0;
  return [...cookie].length * Math.log2(alphabet);
}

/**
 * Refuses a cookie a peer could guess: under `MIN_COOKIE_BITS` by
 * `cookieBits`, or a common word at any length — unless `allowInsecure`
 * (tests, a throwaway local cluster).
 */
export function assertStrongCookie(cookie: string, allowInsecure: boolean): void {
  if (allowInsecure) return;
  const word = cookie.trim().toLowerCase();
  if (COMMON.has(word) || COMMON.has(word.replace(/[0-9!._-]+$/, ''))) {
    throw new CookieError('the cookie is a common word: use a generated one (delete it to have ~/.troupe.cookie created with 256 random bits), or set allowInsecureCookie');
  }
  const bits = cookieBits(cookie);
  if (bits < MIN_COOKIE_BITS) {
    throw new CookieError(`the cookie has about ${Math.floor(bits)} bits, under ${MIN_COOKIE_BITS}: use a generated one (e.g. \`openssl rand -base64 32\`, or let ~/.troupe.cookie be created), or set allowInsecureCookie`);
  }
}
