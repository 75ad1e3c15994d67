export { Cluster, startCluster, HOST, type ClusterOptions, type AddNodeOptions } from './cluster.js';
export { NodeHandle, type ProcessExit } from './node-handle.js';
export { Probe } from './probe.js';
export { stopAllClusters } from './cleanup.js';
export type { Scenario, Scenarios, ScenarioEnv } from './scenario.js';
export { now, type HarnessEvent, type HarnessEventKind, type NodeConfig, type NodeTransportConfig } from './protocol.js';
export { RemoteError, toWire, fromWire, type WireError, type WireValue } from './wire.js';
