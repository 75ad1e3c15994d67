import { hash32 } from '../crdt/hash.js';
import type { PlacementStrategy } from './types.js';

/** HRW score of `node` for `key`: every node computes the same from the two strings. */
export function hrwScore(key: string, node: string): number {
  return hash32(`${key}\u0000${node}`);
}

/**
 * Rendezvous (highest random weight) hashing: a key's home
 * is the node with the highest score; removing a node moves only its keys,
 * adding one takes ~1/N of new keys. Ties go to the lower node name.
 */
export const rendezvous: PlacementStrategy = {
  rank(key: string, nodes: readonly string[]): string[] {
    const scored = nodes.map((n) => [hrwScore(key, n), n] as const);
    scored.sort((a, b) => b[0] - a[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    return scored.map((s) => s[1]);
  },
};

/** The home of `key` among `nodes` (undefined if none): the top of the ranking, without sorting. */
export function homeOf(key: string, nodes: readonly string[]): string | undefined {
  let best: string | undefined;
  let score = -1;
  for (const n of nodes) {
    const s = hrwScore(key, n);
    if (s > score || (s === score && best !== undefined && n < best)) {
      best = n;
      score = s;
    }
  }
  return best;
}
