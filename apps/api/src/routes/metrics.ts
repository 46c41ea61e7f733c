import { createHash, timingSafeEqual } from 'node:crypto';
import { AppError } from '@conveyor/shared';
import { Hono } from 'hono';
import type { AppEnv } from '../deps';
import type { ApiMetrics } from '../metrics/registry';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * `GET /metrics`: Prometheus text. Open when no token is configured (keep the port private); with
 * METRICS_TOKEN set, the scraper must send `Authorization: Bearer <token>`.
 */
export function metricsRoutes(metrics: ApiMetrics, token: string | undefined) {
  const app = new Hono<AppEnv>();
  const expected = token === undefined ? undefined : digest(token);
  app.get('/', async (c) => {
    if (expected) {
      const given = /^Bearer (.+)$/i.exec(c.req.header('authorization') ?? '')?.[1] ?? '';
      if (!timingSafeEqual(digest(given), expected))
        throw new AppError('unauthenticated', 401, 'A valid metrics token is required.');
    }
    return c.body(await metrics.registry.metrics(), 200, { 'Content-Type': metrics.registry.contentType });
  });
  return app;
}
