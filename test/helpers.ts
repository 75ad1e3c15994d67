import { afterEach } from 'vitest';
import { startCluster, stopAllClusters, type Cluster, type ClusterOptions } from '@troupe/harness';

/** The scenario module every test node imports. */
export const SCENARIOS = new URL('./scenarios.ts', import.meta.url).pathname;

/** 1 s tick timeout (the fastest detection the transport supports): liveness tests stay short. */
export const FAST_TICKS = { tickMs: 250, tickTimeoutMs: 1000 } as const;

/** Registers teardown (every node process killed, also when the test failed) and returns a starter. */
export function useClusters(): (opts?: ClusterOptions) => Promise<Cluster> {
  afterEach(() => stopAllClusters());
  return (opts = {}) => startCluster({ scenarios: [SCENARIOS], ...opts });
}

/** Registry-crdt scenarios (Registry + DistributedSupervisor of `room` children) for test/registry-*.test.ts. */
export const REG_SCENARIOS = new URL('./registry-scenarios.ts', import.meta.url).pathname;
