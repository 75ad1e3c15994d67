import { InvalidUrlError } from '../errors.js';
import type { DiscoveryStrategy } from './strategy.js';

export interface StaticSeedsOptions {
  /** ms between rounds (default 5000): a seed that is down or restarted is dialled again. */
  intervalMs?: number;
}

/** A fixed list of seed URLs (libcluster's Epmd strategy). Connecting to one visible seed joins its whole mesh. */
export class StaticSeeds implements DiscoveryStrategy {
  readonly name = 'static_seeds';
  readonly intervalMs: number;
  private readonly urls: readonly string[];

  constructor(urls: readonly string[], opts: StaticSeedsOptions = {}) {
    for (const u of urls) {
      // Fail at configuration time, not in a background loop.
      let p: URL;
      try {
        p = new URL(u);
      } catch {
        throw new InvalidUrlError(u);
      }
      if (p.protocol !== 'ws:' && p.protocol !== 'wss:') throw new InvalidUrlError(u);
    }
    this.urls = [...urls];
    this.intervalMs = opts.intervalMs ?? 5000;
  }

  targets(): readonly string[] {
    return this.urls;
  }
}
