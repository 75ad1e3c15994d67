/**
 * Clean-up across tests: every running cluster is tracked here, so an
 * `afterEach` can stop what a failed test left behind. (Each node process is
 * also SIGKILLed when this process exits, and exits by itself when its IPC
 * channel closes.)
 */

const liveClusters = new Set<{ stop(): Promise<void> }>();

/** @internal A cluster that is running (until it stops). */
export function trackCluster(c: { stop(): Promise<void> }): void {
  liveClusters.add(c);
}

/** @internal */
export function untrackCluster(c: { stop(): Promise<void> }): void {
  liveClusters.delete(c);
}

/** Stops every cluster still running (use in `afterEach`, so a failed test cleans up too). */
export async function stopAllClusters(): Promise<void> {
  await Promise.all([...liveClusters].map((c) => c.stop()));
}
