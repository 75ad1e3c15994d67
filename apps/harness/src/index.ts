export {
  Cluster,
  NodeHandle,
  Probe,
  startCluster,
  stopAllClusters,
  HOST,
  type ClusterOptions,
  type AddNodeOptions,
  type ProcessExit,
} from './cluster.js';
export type { Scenario, Scenarios, ScenarioEnv } from './scenario.js';
export { now, type HarnessEvent, type HarnessEventKind, type NodeConfig, type NodeTransportConfig } from './protocol.js';
export { RemoteError, toWire, fromWire, type WireError, type WireValue } from './wire.js';
