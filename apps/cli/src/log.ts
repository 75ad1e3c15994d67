/**
 * `troupe node`'s logger: pino, human-readable on a terminal (pino-pretty,
 * one line per entry), one JSON object per line otherwise, so people and log
 * collectors each get their format. TROUPE_LOG_FORMAT=pretty|json overrides
 * the terminal test (`troupe cluster` asks its nodes for pretty lines when it
 * draws for a terminal). Writes are synchronous: a node that exits right after
 * logging (drain timeout, fatal error) loses no line.
 */
import { createRequire } from 'node:module';
import { destination, pino, stdTimeFunctions, type DestinationStream, type Logger as Pino } from 'pino';
import type PinoPretty from 'pino-pretty';
import type { Logger } from '@troupe/actor-core';
import type { CliLogLevel } from './log-levels.js';

// Loaded only for pretty output: it is a third of a node's logging start-up cost (~50 ms per process,
// which adds up when `troupe cluster` starts 32 of them on two cores), and JSON lines never need it.
const loadPretty = (): typeof PinoPretty => createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;

export { LOG_LEVELS, type CliLogLevel } from './log-levels.js';
export type LogFormat = 'pretty' | 'json';

export function logFormat(env: NodeJS.ProcessEnv, stdoutIsTty: boolean): LogFormat {
  const f = env.TROUPE_LOG_FORMAT;
  if (f === 'pretty' || f === 'json') return f;
  return stdoutIsTty ? 'pretty' : 'json';
}

export interface NodeLogOptions {
  level: CliLogLevel;
  format: LogFormat;
  /** Colours in pretty lines (a terminal, not a pipe read by `troupe cluster`). */
  colorize: boolean;
  /** Where lines go (default stdout); writes that fail (EPIPE: nobody reads) are dropped, never thrown. */
  destination?: DestinationStream;
}

/**
 * stdout, written synchronously (EAGAIN on a full pipe is retried); a failed
 * write (EPIPE: nobody reads any more) drops the line: logging must never
 * take the node down.
 */
function stdoutSink(): DestinationStream {
  const sink = destination({ dest: 1, sync: true });
  sink.on('error', () => {});
  return sink;
}

export function createPino(o: NodeLogOptions): Pino {
  const sink = o.destination ?? stdoutSink();
  const dest =
    o.format === 'pretty' ? loadPretty()({ sync: true, singleLine: true, colorize: o.colorize, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l', destination: sink }) : sink;
  // No pid/hostname on every line; the level as its name (`"level":"info"`), as actor-core's own JSON lines.
  return pino({ level: o.level, base: undefined, timestamp: stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } }, dest as DestinationStream);
}

/** `{ error: { name, message, stack } }`, the exit reason of a thrown Error (actor-core's crash data). */
function thrown(data: Record<string, unknown> | undefined): { name?: unknown; message?: unknown; stack?: unknown } | null {
  const reason = data?.reason;
  if (typeof reason !== 'object' || reason === null || !('error' in reason)) return null;
  const e = (reason as { error: unknown }).error;
  return typeof e === 'object' && e !== null ? (e as { name?: unknown; message?: unknown; stack?: unknown }) : null;
}

/**
 * actor-core's Logger on pino. A crash report ("process crashed") is one
 * line at info — which process, which behaviour, the reason (`Name: message`
 * for a thrown Error) — and the Error's stack a separate entry at debug: a
 * crash is an event OTP expects and supervisors handle, and a screen of stack
 * per crash at the default level drowns everything else.
 */
export function nodeLogger(log: Pino): Logger {
  return {
    debug: (msg, d) => log.debug(d ?? {}, msg),
    info: (msg, d) => log.info(d ?? {}, msg),
    warn: (msg, d) => log.warn(d ?? {}, msg),
    enabled: (level) => log.isLevelEnabled(level),
    error: (msg, d) => {
      if (msg !== 'process crashed') return log.error(d ?? {}, msg);
      const e = thrown(d);
      if (e === null) return log.info(d ?? {}, msg);
      log.info({ ...d, reason: `${String(e.name)}: ${String(e.message)}` }, msg);
      if (typeof e.stack === 'string') log.debug({ pid: d?.pid, stack: e.stack }, 'process crashed: stack');
    },
  };
}
