import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';

/** Request headers a browser client may send: auth, JSON bodies, idempotency, revalidation, SSE resume. */
export const CORS_ALLOW_HEADERS = [
  'Authorization',
  'Content-Type',
  'Idempotency-Key',
  'If-None-Match',
  'Last-Event-ID',
  'X-Request-Id',
];

/** Answer headers a browser client may read (beyond the CORS-safelisted ones). */
export const CORS_EXPOSE_HEADERS = [
  'ETag',
  'Location',
  'X-Request-Id',
  'RateLimit',
  'RateLimit-Policy',
  'Retry-After',
  'Idempotent-Replayed',
  'Link',
];

/** How long a browser may reuse a preflight answer, in s (Chrome caps it at 7200). */
export const CORS_MAX_AGE_S = 600;

/**
 * CORS for browser clients on other origins, or undefined (off) for an empty list: an API called with
 * bearer keys from servers needs none, and every allowed origin is one more place a key can be used from.
 * `['*']` allows any origin. No credentials: keys travel in Authorization, never in cookies.
 */
export function corsFor(origins: readonly string[]): MiddlewareHandler | undefined {
  if (origins.length === 0) return undefined;
  return cors({
    origin: origins.includes('*') ? '*' : [...origins],
    allowMethods: ['GET', 'HEAD', 'POST', 'DELETE'],
    allowHeaders: CORS_ALLOW_HEADERS,
    exposeHeaders: CORS_EXPOSE_HEADERS,
    maxAge: CORS_MAX_AGE_S,
  });
}
