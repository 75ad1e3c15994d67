export { Node, type NodeOptions, type ProcessInfo, type NodeEvents } from './node.js';
export { Pid, Ref, isPid, isRef } from './pid.js';
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
  type CallTarget,
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
export { Distribution } from './dist/distribution.js';
export type { Signal, SignalKind, Transport } from './dist/signals.js';
export { type StartResult, type Origin, isStarted } from './start-result.js';
