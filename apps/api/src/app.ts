import { notFound } from '@conveyor/shared';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { AppDeps, AppEnv } from './deps';
import { problemResponse } from './http/error-handler';
import { bodyTooLarge, nodeIncoming, readsNoBody } from './http/json-body';
import { createFleetReader } from './metrics/fleet';
import { createApiMetrics } from './metrics/registry';
import { createAuthenticator } from './middleware/auth';
import { compression } from './middleware/compression';
import { corsFor } from './middleware/cors';
import { httpMetrics } from './middleware/http-metrics';
import { createJwtVerifier } from './middleware/jwt';
import { createRateLimits } from './middleware/rate-limit';
import { requestContext } from './middleware/request-context';
import { securityHeaders } from './middleware/security-headers';
import { buildOpenApiDocument } from './openapi/document';
import { adminRoutes } from './routes/admin';
import { artifactRoutes } from './routes/artifacts';
import { dashboardRoutes } from './routes/dashboard';
import { docsRoutes } from './routes/docs';
import { eventRoutes } from './routes/events';
import { healthRoutes } from './routes/health';
import { jobRoutes } from './routes/jobs';
import { metricsRoutes } from './routes/metrics';
import { queueBoardRoutes } from './routes/queue-board';
import { queueRoutes } from './routes/queues';
import { scheduleRoutes } from './routes/schedules';
import { uploadRoutes } from './routes/uploads';
import { webhookRoutes } from './routes/webhooks';

/**
 * Builds the HTTP app; never listens (main.ts does). Middleware order, outermost first:
 * 0. request metrics (duration by route pattern and status), so every answer is counted, errors included;
 * 1. request context (id, logger, access log), so every answer and log line carries the request id;
 * 2. security headers, set on whatever comes back, error answers and CORS preflights included;
 * 3. CORS (only when origins are configured), which answers preflights before auth or limits see them;
 * 4. compression, which sees the final body and headers of everything inside it;
 * 5. body limit on /v1;
 * 6. per-route auth (API key, or JWT when configured), with the limits' hooks (middleware/rate-limit.ts): the failed-auth throttle per client
 *    address before the credential is looked up, the per-key token bucket once the key is verified (before
 *    the scope check, so every answer to a valid key carries the RateLimit headers) → handler.
 * Errors of any layer end in onError, and the answer it makes passes back out through the layers above.
 */
export function createApp(deps: AppDeps) {
  const app = new Hono<AppEnv>({ strict: false });
  const limitHooks = createRateLimits(deps);
  const authCacheTtlMs = deps.authCacheTtlMs ?? 5_000;
  const jwt = deps.jwt && createJwtVerifier(deps.db, deps.jwt, authCacheTtlMs);
  const requireScope = createAuthenticator(deps.db, authCacheTtlMs, limitHooks, jwt);
  const limit = deps.bodyLimitBytes ?? 1024 * 1024;
  const metrics = deps.metrics ?? createApiMetrics({ processMetrics: false });
  const fleet = createFleetReader(deps.producer);
  metrics.watchFleet(fleet);

  app.use('*', httpMetrics(metrics));
  app.use('*', requestContext(deps.log));
  app.use('*', securityHeaders({ hstsMaxAgeS: deps.hstsMaxAgeS ?? 0 }));
  const cors = corsFor(deps.corsOrigins ?? []);
  if (cors) app.use('*', cors);
  app.use('*', compression({ minBytes: deps.compressionMinBytes ?? 1024 }));
  const jsonLimit = bodyLimit({
    maxSize: limit,
    onError: () => {
      throw bodyTooLarge(limit);
    },
  });
  // Uploads stream to storage under their own, larger limit; every other body is JSON, held to `limit`.
  // GETs skip the check: hono's bodyLimit reads `c.req.raw.body`, which makes @hono/node-server build a
  // full WHATWG Request (headers, AbortSignal) — 15 % of a cached GET's CPU in a profile.
  // A request served by Node has its JSON read straight from the socket (http/json-body.ts), which applies
  // the limit itself; a declared length over it is refused before anything is read.
  app.use('/v1/*', (c, next) => {
    if (c.req.path.startsWith('/v1/uploads') || readsNoBody(c.req.method)) return next();
    c.set('bodyLimit', limit);
    if (!nodeIncoming(c)) return jsonLimit(c, next);
    if (Number(c.req.header('content-length') ?? 0) > limit) throw bodyTooLarge(limit);
    return next();
  });

  app.route('/health', healthRoutes(deps));
  app.route('/metrics', metricsRoutes(metrics, deps.metricsToken));
  const openapi = JSON.stringify(buildOpenApiDocument());
  app.get('/openapi.json', (c) => c.body(openapi, 200, { 'Content-Type': 'application/json' }));
  app.route('/docs', docsRoutes());
  app.route('/dashboard', dashboardRoutes());
  app.route('/v1/jobs', jobRoutes(deps, requireScope));
  app.route('/v1/admin', adminRoutes(deps, limitHooks));
  app.route('/admin/queues', queueBoardRoutes(deps, limitHooks));
  app.route('/v1/uploads', uploadRoutes(deps, requireScope));
  app.route('/v1/queues', queueRoutes(fleet, requireScope));
  app.route('/v1/events', eventRoutes(deps, requireScope));
  app.route('/v1/schedules', scheduleRoutes(deps, requireScope));
  app.route('/v1', artifactRoutes(deps, requireScope));
  app.route('/v1', webhookRoutes(deps, requireScope));

  app.notFound((c) => problemResponse(c, notFound()));
  app.onError((error, c) => problemResponse(c, error));
  return app;
}

export type App = ReturnType<typeof createApp>;
