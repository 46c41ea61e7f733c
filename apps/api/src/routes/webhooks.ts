import {
  findJob,
  listWebhookDeliveries,
  readWebhookSettings,
  rotateWebhookSecret,
  setWebhookUrl,
  type WebhookDeliveryRow,
  type WebhookSettingsRow,
} from '@conveyor/db';
import {
  fieldErrors,
  generateWebhookSecret,
  isUuid,
  notFound,
  updateWebhookSettingsRequest,
  validationFailed,
  WEBHOOK_PREVIOUS_SECRET_TTL_MS,
  type WebhookDeliveryView,
  type WebhookSettingsView,
} from '@conveyor/shared';
import { type Context, Hono } from 'hono';
import type { AppDeps, AppEnv } from '../deps';
import { readRawJson } from '../http/json-body';
import type { createAuthenticator } from '../middleware/auth';

function settingsView(row: WebhookSettingsRow | undefined): WebhookSettingsView {
  // The key's tenant always exists; a tenant deleted mid-request reads like any missing resource.
  if (!row) throw notFound('tenant');
  const expires = row.previousSecretExpiresAt;
  return {
    url: row.url,
    secret: row.secret,
    previousSecretExpiresAt:
      row.previousSecret && expires && expires > new Date() ? expires.toISOString() : null,
    disabledEndpoints: row.disabledEndpoints.map((d) => ({
      url: d.url,
      reason: d.reason,
      disabledAt: d.disabledAt.toISOString(),
    })),
  };
}

const deliveryView = (row: WebhookDeliveryRow): WebhookDeliveryView => ({
  id: row.id,
  messageId: row.messageId,
  event: row.event as WebhookDeliveryView['event'],
  url: row.url,
  attempt: row.attempt,
  outcome: row.outcome,
  responseStatus: row.responseStatus,
  error: row.error,
  durationMs: row.durationMs,
  createdAt: row.createdAt.toISOString(),
});

const NO_STORE = { 'Cache-Control': 'no-store' };

/**
 * The tenant's webhook settings (default endpoint, signing secret, rotation, endpoints disabled by a 410)
 * and a job's delivery log. Settings take `jobs:write` even to read: the answer holds the signing secret,
 * with which anyone could forge deliveries to the tenant's own receivers, so a read-only key must not see it.
 */
export function webhookRoutes(deps: AppDeps, requireScope: ReturnType<typeof createAuthenticator>) {
  const app = new Hono<AppEnv>();
  const write = requireScope('jobs:write');
  const read = requireScope('jobs:read');
  const tenantOf = (c: Context<AppEnv>) => c.get('auth').tenantId;

  app.get('/webhook-settings', write, async (c) => {
    const row = await readWebhookSettings(deps.db, tenantOf(c), generateWebhookSecret());
    return c.json(settingsView(row), 200, NO_STORE);
  });

  app.put('/webhook-settings', write, async (c) => {
    const parsed = updateWebhookSettingsRequest.safeParse(await readRawJson(c));
    if (!parsed.success) throw validationFailed(fieldErrors(parsed.error.issues));
    const row = await setWebhookUrl(deps.db, tenantOf(c), parsed.data.url, generateWebhookSecret());
    return c.json(settingsView(row), 200, NO_STORE);
  });

  app.post('/webhook-settings/rotate-secret', write, async (c) => {
    const row = await rotateWebhookSecret(
      deps.db,
      tenantOf(c),
      generateWebhookSecret(),
      new Date(Date.now() + WEBHOOK_PREVIOUS_SECRET_TTL_MS),
    );
    return c.json(settingsView(row), 200, NO_STORE);
  });

  app.get('/jobs/:id/deliveries', read, async (c) => {
    const id = c.req.param('id') ?? '';
    if (!isUuid(id)) throw notFound('job');
    const jobId = id.toLowerCase();
    if (!(await findJob(deps.db, tenantOf(c), jobId))) throw notFound('job');
    const rows = await listWebhookDeliveries(deps.db, tenantOf(c), jobId);
    return c.json({ data: rows.map(deliveryView) }, 200, { 'Cache-Control': 'private, no-cache' });
  });

  return app;
}
