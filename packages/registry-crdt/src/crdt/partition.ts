import type { Entry, WriterIncarnation } from './types.js';

/**
 * Everything a replica knows about one origin: the live entries that the
 * origin's ops `1..upTo` leave, and their XOR digest. Two replicas with the
 * same `upTo` for an origin hold identical partitions (the causal
 * delta-merging condition guarantees it), which is what the digest checks.
 */
export class Partition<V> {
  upTo = 0;
  digest = 0;
  readonly live = new Map<number, Entry<V>>();

  constructor(readonly origin: WriterIncarnation) {}
}
