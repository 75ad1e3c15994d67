// @troupe/cli as a library: the argument parser and the status view (the command is dist/main.js;
// the benchmark report writer is @troupe/bench's).
export { parseArgs, UsageError, USAGE, USAGE_NODE, USAGE_CLUSTER, USAGE_BENCH, type Command, type NodeCliOptions, type ClusterCliOptions, type BenchCliOptions } from './args.js';
export { renderStatus, type StatusRow } from './status.js';
export type { NodeStatus } from './ipc.js';
