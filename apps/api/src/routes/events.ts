import { fieldErrors, invalidParameter, JOB_STATUSES } from '@conveyor/shared';
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppDeps, AppEnv } from '../deps';
import { streamTenantEvents } from '../live/tenant-events-stream';
import type { createAuthenticator } from '../middleware/auth';

const list = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()))
  .refine((l) => l.length <= 20 && l.every(Boolean), 'a comma-separated list');

const query = z
  .object({
    type: list.optional(),
    status: list
      .refine(
        (l) => l.every((s) => (JOB_STATUSES as readonly string[]).includes(s)),
        `each one of ${JOB_STATUSES.join(', ')}`,
      )
      .optional(),
  })
  .strict();

/** GET /v1/events: the tenant's job changes, live, as server-sent events. */
export function eventRoutes(deps: AppDeps, requireScope: ReturnType<typeof createAuthenticator>) {
  const app = new Hono<AppEnv>();
  app.get('/', requireScope('jobs:read'), (c) => {
    const parsed = query.safeParse(c.req.query());
    if (!parsed.success)
      throw invalidParameter('A query parameter is not valid.', fieldErrors(parsed.error.issues));
    return streamTenantEvents(c, deps, c.get('auth').tenantId, {
      types: parsed.data.type,
      statuses: parsed.data.status,
    });
  });
  return app;
}
