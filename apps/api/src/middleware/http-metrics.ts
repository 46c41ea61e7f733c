import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../deps';
import type { ApiMetrics } from '../metrics/registry';

/**
 * Times every request and records it under its matched route pattern (`/v1/jobs/:id`), never the raw
 * path, so the number of series stays bounded; requests no route matched count as `unmatched`.
 */
export function httpMetrics(metrics: ApiMetrics): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const pattern = c.req.routePath;
      const route = !pattern || pattern.includes('*') ? 'unmatched' : pattern.replace(/(.)\/$/, '$1');
      metrics.observeRequest(c.req.method, route, c.res.status, (performance.now() - started) / 1_000);
    }
  };
}
