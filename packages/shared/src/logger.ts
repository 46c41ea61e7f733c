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
 * Paths that must never reach a log line, at the top level of a line and one level down. Payloads are
 * redacted before they are logged (redactPayload in redact.ts: the fields a kind marks sensitive and
 * secret-looking keys at any depth); these cover the transport-level secrets.
 */
const REDACT = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'apiKey',
  'key',
  'password',
  'token',
  'secret',
  '*.password',
  '*.token',
  '*.secret',
  '*.apiKey',
  '*.authorization',
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
