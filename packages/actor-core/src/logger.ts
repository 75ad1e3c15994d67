/** Structured log lines: a message and plain data. Replace it with your own, or silence it. */
export interface Logger {
  debug(msg: string, data?: Record<string, unknown>): void;
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
  /**
   * Whether a line at `level` would be written, so that a caller on a hot
   * path can skip building the data of a line nobody reads. Absent: every
   * level counts as enabled.
   */
  enabled?(level: Exclude<LogLevel, 'silent'>): boolean;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const order: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 };

/** One JSON line per entry on stderr, at or above `level`. */
export function consoleLogger(level: LogLevel = 'info'): Logger {
  const min = order[level];
  const write = (lvl: Exclude<LogLevel, 'silent'>, msg: string, data?: Record<string, unknown>): void => {
    if (order[lvl] < min) return;
    let line: string;
    try {
      line = JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...data }, replacer);
    } catch {
      line = JSON.stringify({ time: new Date().toISOString(), level: lvl, msg });
    }
    process.stderr.write(line + '\n');
  };
  return {
    debug: (m, d) => write('debug', m, d),
    info: (m, d) => write('info', m, d),
    warn: (m, d) => write('warn', m, d),
    error: (m, d) => write('error', m, d),
    enabled: (lvl) => order[lvl] >= min,
  };
}

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'symbol') return value.toString();
  return value;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  enabled: () => false,
};
