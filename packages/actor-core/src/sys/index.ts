// sys: introspection of a running node (OTP's `sys`, `dbg`-style tracing,
// metrics), and the functions an observer calls over the mesh.
export { Sys, type TraceRead } from './sys.js';
export { type TraceEvent, type TraceOptions, type ProcStatistics } from './trace.js';
export { renderValue, type RenderLimits } from './render.js';
export { SysMonitor, sysMonitor, type SysEvent } from './monitor.js';
export { type NodeSnapshot, type ProcessRow, type ProcessDetail, type TreeNode, type MeshView } from './introspect.js';
export { exposeIntrospection, SYS_FUNCTIONS, type IntrospectionOptions } from './expose.js';
export { formatPrometheus, nodeMetrics, PROMETHEUS_CONTENT_TYPE, type MetricFamily, type MetricSample } from './metrics.js';
