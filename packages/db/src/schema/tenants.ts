import { sql } from 'drizzle-orm';
import { check, integer, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { tstz } from './columns';

export const tenants = pgTable(
  'tenants',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    createdAt: tstz('created_at').notNull().defaultNow(),
    /** Requests per rate-limit window for each of the tenant's API keys; NULL = the deployment's default, 0 = unlimited. */
    rateLimit: integer('rate_limit'),
    /** Most unfinished (queued, running, retrying) jobs at once; NULL = the deployment's default, 0 = unlimited. */
    maxActiveJobs: integer('max_active_jobs'),
    /** The default endpoint for job webhooks; a job's own `webhook.url` wins. */
    webhookUrl: text('webhook_url'),
    /** Standard Webhooks signing secret (`whsec_` + base64); made on first read, replaced by a rotation. */
    webhookSecret: text('webhook_secret'),
    /** The secret before the last rotation: deliveries are signed with both until it expires. */
    webhookPreviousSecret: text('webhook_previous_secret'),
    webhookPreviousSecretExpiresAt: tstz('webhook_previous_secret_expires_at'),
  },
  () => [
    check('tenants_rate_limit_check', sql`rate_limit >= 0`),
    check('tenants_max_active_jobs_check', sql`max_active_jobs >= 0`),
  ],
);

export type TenantRow = typeof tenants.$inferSelect;
