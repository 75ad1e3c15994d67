import type { WebSocket } from 'ws';

/**
 * The sockets whose handshake has not completed, bounded globally and per
 * remote address. A socket over either bound evicts the oldest pending one
 * (of its address, for the per-address bound) rather than being refused: a
 * peer with the cookie finishes its handshake in one round trip, so a flood
 * of stalled sockets can delay it but never lock it out, while the memory
 * they hold stays bounded.
 */
export class PendingHandshakes {
  /** Insertion order is age order: the first entry is the oldest. */
  private readonly all = new Map<WebSocket, string>();
  private readonly perAddress = new Map<string, number>();

  constructor(
    readonly max: number,
    readonly maxPerAddress: number,
  ) {}

  get size(): number {
    return this.all.size;
  }

  /** Admits `ws` from `addr`; returns the sockets it displaced (to be closed by the caller). */
  admit(ws: WebSocket, addr: string): WebSocket[] {
    const evicted: WebSocket[] = [];
    if ((this.perAddress.get(addr) ?? 0) >= this.maxPerAddress) {
      for (const [old, a] of this.all) {
        if (a === addr) {
          this.done(old);
          evicted.push(old);
          break;
        }
      }
    }
    if (this.all.size >= this.max) {
      const old = this.all.keys().next().value;
      if (old !== undefined) {
        this.done(old);
        evicted.push(old);
      }
    }
    this.all.set(ws, addr);
    this.perAddress.set(addr, (this.perAddress.get(addr) ?? 0) + 1);
    return evicted;
  }

  /** `ws` finished its handshake (or failed, or closed); no-op if it was not pending. */
  done(ws: WebSocket): void {
    const addr = this.all.get(ws);
    if (addr === undefined) return;
    this.all.delete(ws);
    const n = (this.perAddress.get(addr) ?? 1) - 1;
    if (n <= 0) this.perAddress.delete(addr);
    else this.perAddress.set(addr, n);
  }
}
