/**
 * Scenarios: code a test runs inside a node process. They are ordinary
 * functions exported by name from a module the node process imports (listed
 * in `scenarioModules`): the harness never evaluates code strings.
 *
 * ```ts
 * // test/scenarios.ts
 * import type { Scenarios } from '@troupe/harness';
 * export const scenarios: Scenarios = {
 *   startCounter: async (env) => { ... return pid; },
 * };
 * ```
 */
import type { Node } from '@troupe/actor-core';
import type { WsTransport } from '@troupe/transport-ws';

/** What a scenario gets: its node, the node's transport, and ways to report back. */
export interface ScenarioEnv {
  readonly node: Node;
  readonly transport: WsTransport;
  /** Sends a `custom` event to the test. */
  emit(name: string, data?: unknown): void;
  /** Per-node storage shared by every scenario run on this node (keep state between calls here). */
  readonly store: Map<string, unknown>;
}

/**
 * A scenario: called with the arguments the test passed (pids and refs come
 * back as real `Pid`/`Ref`); its (awaited) result goes back to the test.
 * Results cross IPC as JSON with pids, refs, errors, Buffers, Maps and Sets preserved.
 */
export type Scenario = (env: ScenarioEnv, ...args: never[]) => unknown;

/** The export a scenario module must provide. */
export type Scenarios = Record<string, Scenario>;
