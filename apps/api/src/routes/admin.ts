import { createApiKey, createTenant, findTenant, revokeApiKey } from '@conveyor/db';
import { createApiKeyRequest, createTenantRequest, isUuid, notFound, SCOPES } from '@conveyor/shared';
import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../deps';
import { readJson } from '../http/json-body';
import { requireAdmin } from '../middleware/auth';

/** Tenants and API keys, behind the admin token. */
export function adminRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  app.use('*', requireAdmin(deps.adminToken));

  app.post('/tenants', async (c) => {
    const body = await readJson(c, createTenantRequest);
    const tenant = await createTenant(deps.db, body.name);
    return c.json({ id: tenant.id, name: tenant.name, createdAt: tenant.createdAt.toISOString() }, 201);
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
