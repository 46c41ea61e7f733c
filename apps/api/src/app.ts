import { AppError, notFound } from '@conveyor/shared';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { AppDeps, AppEnv } from './deps';
import { problemResponse } from './http/error-handler';
import { createAuthenticator } from './middleware/auth';
import { requestContext } from './middleware/request-context';
import { buildOpenApiDocument } from './openapi/document';
import { adminRoutes } from './routes/admin';
import { artifactRoutes } from './routes/artifacts';
import { healthRoutes } from './routes/health';
import { jobRoutes } from './routes/jobs';
import { uploadRoutes } from './routes/uploads';

/**
 * Builds the HTTP app; never listens (main.ts does). Middleware order: request context (id, logger,
 * access log) → body limit on /v1 → per-route auth → handler. Errors of any layer end in onError.
 */
export function createApp(deps: AppDeps) {
  const app = new Hono<AppEnv>({ strict: false });
  const requireScope = createAuthenticator(deps.db, deps.authCacheTtlMs ?? 5_000);
  const limit = deps.bodyLimitBytes ?? 1024 * 1024;

  app.use('*', requestContext(deps.log));
  const jsonLimit = bodyLimit({
    maxSize: limit,
    onError: () => {
      throw new AppError('payload_too_large', 413, `The body is larger than ${limit} bytes.`);
    },
  });
  // Uploads stream to storage under their own, larger limit; every other body is JSON, held to `limit`.
  app.use('/v1/*', (c, next) => (c.req.path.startsWith('/v1/uploads') ? next() : jsonLimit(c, next)));

  app.route('/health', healthRoutes(deps));
  const openapi = JSON.stringify(buildOpenApiDocument());
  app.get('/openapi.json', (c) => c.body(openapi, 200, { 'Content-Type': 'application/json' }));
  app.route('/v1/jobs', jobRoutes(deps, requireScope));
  app.route('/v1/admin', adminRoutes(deps));
  app.route('/v1/uploads', uploadRoutes(deps, requireScope));
  app.route('/v1', artifactRoutes(deps, requireScope));

  app.notFound((c) => problemResponse(c, notFound()));
  app.onError((error, c) => problemResponse(c, error));
  return app;
}

export type App = ReturnType<typeof createApp>;
