/**
 * Nonces seen recently, to refuse a replayed handshake. A fresh acceptor
 * nonce already makes an old proof invalid; this check catches a replay
 * early and names it. Bounded: the oldest entries go first.
 */
export class NonceCache {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly ttlMs = 10 * 60_000,
    private readonly max = 100_000,
  ) {}

  /** Records `nonce`; true if it was already seen within the TTL. */
  checkAndAdd(nonce: Uint8Array, now = Date.now()): boolean {
    const key = Buffer.from(nonce.buffer, nonce.byteOffset, nonce.byteLength).toString('base64');
    const at = this.seen.get(key);
    if (at !== undefined && now - at < this.ttlMs) return true;
    this.seen.delete(key);
    this.seen.set(key, now);
    if (this.seen.size > this.max) {
      for (const k of this.seen.keys()) {
        this.seen.delete(k);
        if (this.seen.size <= this.max) break;
      }
    }
    return false;
  }
}
