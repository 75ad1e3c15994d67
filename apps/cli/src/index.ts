// @troupe/cli as a library: the argument parser and the report writer (the command is dist/main.js).
export { parseArgs, UsageError, USAGE, USAGE_NODE, USAGE_CLUSTER, USAGE_BENCH, type Command, type NodeCliOptions, type ClusterCliOptions, type BenchCliOptions } from './args.js';
export { renderMarkdown, renderSvg, writeReport, currentMeta, type ReportMeta, type ReportFiles } from './report.js';
export { renderStatus, type StatusRow } from './status.js';
export type { NodeStatus } from './ipc.js';
