import { isDbUnavailable } from '@conveyor/db';
import { RedisUnavailableError } from '@conveyor/queue';
import { AppError, unavailable } from '@conveyor/shared';
import type { Context } from 'hono';
import type { AppEnv } from '../deps';
import { internalError, problemBody } from './problem';

/**
 * The one place errors become responses (application/problem+json). Handlers throw; they never build
 * error bodies. An unexpected error is logged once with its stack and answered with a generic 500.
 */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (isDbUnavailable(error)) return unavailable('The database is unreachable; try again shortly.', 5, error);
  if (error instanceof RedisUnavailableError)
    return unavailable('The queue is unreachable; try again shortly.', 5, error);
  return internalError();
}

/**
 * A failed query's message carries its SQL and parameters (payloads, idempotency keys): log the driver's
 * error underneath instead, which names the problem without the data.
 */
function withoutQueryText(error: unknown): unknown {
  return error instanceof Error && error.name === 'DrizzleQueryError' && error.cause ? error.cause : error;
}

export function problemResponse(c: Context<AppEnv>, error: unknown): Response {
  const appError = toAppError(error);
  const requestId = c.get('requestId') ?? 'unknown';
  const log = c.get('log');
  if (appError.status >= 500) {
    const err = withoutQueryText(error);
    if (appError.code === 'internal') log?.error({ err }, 'unhandled error');
    else log?.warn({ err, code: appError.code }, 'dependency unavailable');
  }
  const headers: Record<string, string> = {
    'Content-Type': 'application/problem+json',
    'X-Request-Id': requestId,
    ...appError.headers,
  };
  return c.body(JSON.stringify(problemBody(appError, requestId)), appError.status as 400, headers);
}
