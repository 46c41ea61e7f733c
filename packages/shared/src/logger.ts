import { type Logger, pino } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** Process name, bound on every line (`api`, `worker`). */
  name: string;
  /** pino level; default `info`. */
  level?: string;
  /** Where lines go; default stdout. Tests pass a stream to capture them. */
  destination?: pino.DestinationStream;
}

/**
 * Paths that must never reach a log line. Payload fields a kind marks sensitive are redacted by the
 * worker before logging; these cover the transport-level secrets.
 */
const REDACT = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'apiKey',
  'key',
  'password',
  'token',
  '*.password',
  '*.token',
];

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      name: options.name,
      level: options.level ?? 'info',
      redact: { paths: REDACT, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination,
  );
}
