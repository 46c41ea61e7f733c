import { createApiKey, createTenant, findTenant, revokeApiKey, updateTenantLimits } from '@conveyor/db';
import {
  createApiKeyRequest,
  createTenantRequest,
  isUuid,
  notFound,
  SCOPES,
  updateTenantLimitsRequest,
} from '@conveyor/shared';
import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../deps';
import { readJson } from '../http/json-body';
import { type AuthHooks, requireAdmin } from '../middleware/auth';

/** Tenants and API keys, behind the admin token (failed attempts throttled like API keys' by `authHooks`). */
export function adminRoutes(deps: AppDeps, authHooks: AuthHooks = {}) {
  const app = new Hono<AppEnv>();
  app.use('*', requireAdmin(deps.adminToken, authHooks));

  app.post('/tenants', async (c) => {
    const body = await readJson(c, createTenantRequest);
    const tenant = await createTenant(deps.db, body.name);
    return c.json({ id: tenant.id, name: tenant.name, createdAt: tenant.createdAt.toISOString() }, 201);
  });

  // A tenant's own limits; API instances pick a change up within their tenant cache time (TENANT_LIMITS_CACHE_MS).
  app.patch('/tenants/:id', async (c) => {
    const body = await readJson(c, updateTenantLimitsRequest);
    const id = c.req.param('id');
    const tenant = isUuid(id) ? await updateTenantLimits(deps.db, id.toLowerCase(), body) : undefined;
    if (!tenant) throw notFound('tenant');
    return c.json({
      id: tenant.id,
      name: tenant.name,
      createdAt: tenant.createdAt.toISOString(),
      rateLimit: tenant.rateLimit,
      maxActiveJobs: tenant.maxActiveJobs,
    });
  });

  app.post('/tenants/:id/api-keys', async (c) => {
    const body = await readJson(c, createApiKeyRequest);
    const tenantId = c.req.param('id');
    if (!isUuid(tenantId) || !(await findTenant(deps.db, tenantId.toLowerCase()))) throw notFound('tenant');
    const created = await createApiKey(deps.db, {
      tenantId: tenantId.toLowerCase(),
      name: body.name,
      scopes: body.scopes ?? [...SCOPES],
    });
    return c.json(
      { id: created.row.id, key: created.key, prefix: created.row.prefix, scopes: created.row.scopes },
      201,
    );
  });

  app.delete('/api-keys/:id', async (c) => {
    const id = c.req.param('id');
    if (!isUuid(id) || !(await revokeApiKey(deps.db, id.toLowerCase()))) throw notFound('API key');
    return c.body(null, 204);
  });

  return app;
}
