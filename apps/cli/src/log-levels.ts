/** `--log-level`'s values (apart from log.ts, so that parsing arguments does not load pino). */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const;
export type CliLogLevel = (typeof LOG_LEVELS)[number];
