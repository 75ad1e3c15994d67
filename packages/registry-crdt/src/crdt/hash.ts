/** FNV-1a 32-bit, then a murmur3 finaliser so XOR-combined digests mix well. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * An entry's digest share. It covers identity and the version of its value
 * (the seq that wrote it), not the value itself: only the owner writes, so
 * (id, key, ver) determines the value, and no encoding round trip can make
 * equal states look different.
 */
export function entryHash(id: number, key: string, ver: number): number {
  return hash32(`${id}\u0000${ver}\u0000${key}`);
}

/**
 * The same share as a signed int32, as entries store it: a uint32 above
 * 2^31 is not a small integer for V8 and would make the field a boxed
 * double (16 B more per entry). XOR is indifferent to the sign.
 */
export function entryShare(id: number, key: string, ver: number): number {
  return hash32(`${id}\u0000${ver}\u0000${key}`) | 0;
}
