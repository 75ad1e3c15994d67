export { Node, type NodeOptions, type ProcessInfo, type NodeEvents } from './node.js';
export { Pid, Ref, isPid, isRef } from './pid.js';
export { isValidNodeName, MAX_NODE_NAME_LENGTH } from './node-name.js';
export {
  type ExitReason,
  type SerializedError,
  isNormalExit,
  isShutdown,
  reasonFromThrown,
  formatReason,
  ExitException,
} from './exit-reason.js';
export {
  TroupeError,
  BadArgError,
  CallError,
  CallTimeoutError,
  NoProcError,
  CallingSelfError,
  CallExitError,
  NodeDownError,
  ExitedError,
  WaitTimeoutError,
  type CallTarget,
  type CallInfo,
  type CallFailureReason,
} from './errors.js';
export {
  TIMEOUT,
  isExitMessage,
  isDownMessage,
  type Timeout,
  type Behaviour,
  type ProcessBody,
  type ProcessContext,
  type SpawnOptions,
  type ReceiveOptions,
  type DemonitorOptions,
  type Dest,
  type RemoteName,
  type ViaName,
  type ViaRegistry,
  type ExitMessage,
  type DownMessage,
  type TimeoutMessage,
  type NodeUpMessage,
  type NodeDownMessage,
  type SystemMessage,
} from './types.js';
export { type From, type CallEnvelope, type CastEnvelope, isCall, isCast, DEFAULT_CALL_TIMEOUT } from './internal/calls.js';
export { type Logger, type LogLevel, consoleLogger, silentLogger } from './logger.js';
export type { SchedulerStats } from './internal/scheduler.js';
export { Distribution } from './distribution/distribution.js';
export { type StartResult, type Origin, isStarted, nodeOf } from './start-result.js';
export {
  Supervisor,
  type SupervisorOptions,
  type SupervisorStartError,
  type ChildStarted,
  type StartChildResult,
  type TerminateChildResult,
  type RestartChildResult,
  type DeleteChildResult,
} from './supervisor/supervisor.js';
export {
  type ChildSpec,
  type ChildStart,
  type ResolvedChildSpec,
  type SupervisorFlags,
  type RestartType,
  type ShutdownSpec,
  type ChildType,
  type Strategy,
  type AutoShutdown,
  type SpecProblem,
} from './supervisor/child-spec.js';
export type { ChildInfo, ChildCounts } from './supervisor/supervisor-process.js';
export { RestartIntensity, type IntensityLimit } from './supervisor/restart-intensity.js';
export {
  DynamicSupervisor,
  type DynamicSupervisorFlags,
  type DynamicChildSpec,
  type DynamicStartChildResult,
  type DynamicChildInfo,
} from './supervisor/dynamic-supervisor.js';
export { GenServer } from './gen-server.js';
export { RequestId, RequestIdCollection, type CallResponse, type CollectionResponse } from './gen-server/requests.js';
export {
  IDLE_TIMEOUT,
  type ServerRef,
  type PlainPid,
  type UntypedDest,
  type ReplyTo,
  type IdleTimeout,
  type EventTimeout,
  type Action,
  type InitResult,
  type CallResult,
  type CastResult,
  type NoReplyResult,
  type StopResult,
  type ServerContext,
  type StartOptions,
  type GenStartResult,
  type GenStartMonitorResult,
} from './gen-server/types.js';
export {
  type SpawnSpec,
  type SpawnFactory,
  type RemoteSpawnOptions,
  DEFAULT_SPAWN_TIMEOUT,
} from './distribution/remote-spawn.js';
export { RemoteSpawnError, SpawnNodeDownError, NotExposedError, SpawnTimeoutError, SpawnFailedError } from './distribution/remote-spawn-errors.js';
export { MemoryNetwork, MemoryTransport, type MemoryNetworkOptions, type LaneStats, type DisconnectOptions } from './distribution/memory-transport.js';
export type { VirtualTime } from './distribution/virtual-time.js';
export {
  Rpc,
  RPC_SERVER,
  DEFAULT_RPC_TIMEOUT,
  type RpcFunction,
  type RpcCallInfo,
  type RpcCallOptions,
  type RpcOrigin,
  type RpcResult,
  type MulticallResult,
} from './distribution/rpc.js';
export { RpcError, RpcTimeoutError, RpcNodeDownError, RpcUnknownFunctionError, RpcRemoteError, RpcExitError } from './distribution/rpc-errors.js';
export * from './sys/index.js';
