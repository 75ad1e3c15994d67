/**
 * The IPC protocol between the test process (the harness) and each node
 * process it forks. Requests carry an id; every request gets exactly one
 * reply. Events flow from the node to the test unasked.
 */
import type { WireError, WireValue } from './wire.js';

/** Transport settings a node process starts with (a subset of `WsTransportOptions`, JSON-safe). */
export interface NodeTransportConfig {
  tickMs?: number;
  tickTimeoutMs?: number;
  setupTimeoutMs?: number;
  maxPayload?: number;
  maxBufferedBytes?: number;
  maxBatch?: number;
  hidden?: boolean;
  /** `'none'` turns frame authentication off (both ends must agree); default `'aes-256-gcm'`. */
  frameAuth?: 'aes-256-gcm' | 'none';
}

/** Everything a node process needs to start; passed in the `TROUPE_HARNESS_CONFIG` environment variable. */
export interface NodeConfig {
  /** `name@127.0.0.1`. */
  name: string;
  cookie: string;
  /** The incarnation; omitted: random. */
  creation?: number;
  transport: NodeTransportConfig;
  /** Absolute paths (or file URLs) of scenario modules to import; each exports `scenarios`. */
  scenarioModules: string[];
  /** Forward log lines at or above this level as events (default `info`). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Also print the node's log lines on its stderr. */
  echoLogs?: boolean;
}

export const CONFIG_ENV = 'TROUPE_HARNESS_CONFIG';

/** What a node process observed, with the wall-clock time (ms since the epoch, sub-ms precision) it saw it. */
export type HarnessEvent =
  | { kind: 'nodeup'; node: string; creation: number; at: number }
  | { kind: 'nodedown'; node: string; reason: string; at: number }
  /** A `DOWN` message received by probe `probe`. */
  | { kind: 'down'; probe: number; ref: unknown; object: unknown; reason: unknown; at: number }
  /** An `EXIT` message received by (trapping) probe `probe`. */
  | { kind: 'exit'; probe: number; from: unknown; reason: unknown; at: number }
  /** Any other message received by probe `probe`. */
  | { kind: 'message'; probe: number; msg: unknown; at: number }
  /** A probe itself ended. */
  | { kind: 'probe_exit'; probe: number; reason: unknown; at: number }
  | { kind: 'log'; level: string; msg: string; data: unknown; at: number }
  /** Emitted by a scenario with `env.emit(name, data)`. */
  | { kind: 'custom'; name: string; data: unknown; at: number };

export type HarnessEventKind = HarnessEvent['kind'];

export type ToNode = { t: 'req'; id: number; op: string; args: WireValue[] };

export type FromNode =
  | { t: 'ready'; name: string; url: string; creation: number }
  | { t: 'reply'; id: number; ok: true; value: WireValue }
  | { t: 'reply'; id: number; ok: false; error: WireError }
  | { t: 'event'; event: WireValue }
  | { t: 'fatal'; error: WireError };

/** The wall clock with sub-millisecond precision, comparable between processes on one machine. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}
