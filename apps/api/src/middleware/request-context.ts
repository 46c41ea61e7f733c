import { randomUUID } from 'node:crypto';
import type { Logger } from '@conveyor/shared';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../deps';

/** A request id a client may choose: short, printable, no spaces (it ends up in logs and headers). */
const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Binds the request id (taken from X-Request-Id when sane, else made) and a child logger, sets the
 * X-Request-Id answer header, and writes one access-log line per request.
 */
export function requestContext(log: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const given = c.req.header('x-request-id');
    const requestId = given && SANE_ID.test(given) ? given : randomUUID();
    const started = performance.now();
    c.set('requestId', requestId);
    c.set('log', log.child({ requestId }));
    c.header('X-Request-Id', requestId);
    await next();
    c.res.headers.set('X-Request-Id', requestId);
    c.get('log').info(
      {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
      },
      'request',
    );
  };
}
