import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { tstz } from './columns';
import { jobs } from './jobs';
import { tenants } from './tenants';

/**
 * One row per delivery attempt of a webhook message. `messageId` is the Standard Webhooks `webhook-id`:
 * the same across every attempt of one message, so receivers can deduplicate.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: uuid('id').primaryKey(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    jobId: uuid('job_id')
      .notNull()
      .references(() => jobs.id, { onDelete: 'cascade' }),
    messageId: text('message_id').notNull(),
    /** e.g. `job.succeeded`, `job.failed`, `job.canceled`. */
    event: text('event').notNull(),
    url: text('url').notNull(),
    attempt: integer('attempt').notNull(),
    /** `delivered` (2xx), `failed` (will retry or gave up), `disabled` (410 or the endpoint is disabled). */
    outcome: text('outcome').$type<'delivered' | 'failed' | 'disabled'>().notNull(),
    responseStatus: integer('response_status'),
    error: text('error'),
    durationMs: integer('duration_ms'),
    createdAt: tstz('created_at').notNull().defaultNow(),
  },
  (t) => [
    index('webhook_deliveries_job_idx').on(t.jobId, t.createdAt),
    check('webhook_deliveries_outcome_check', sql`outcome IN ('delivered', 'failed', 'disabled')`),
  ],
);

/** Endpoints that answered `410 Gone`: no more deliveries go to them until the tenant sets them again. */
export const disabledWebhookEndpoints = pgTable(
  'disabled_webhook_endpoints',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    url: text('url').notNull(),
    reason: text('reason').notNull(),
    disabledAt: tstz('disabled_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.url] })],
);

export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;
