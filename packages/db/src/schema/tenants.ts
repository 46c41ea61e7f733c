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
  },
  () => [
    check('tenants_rate_limit_check', sql`rate_limit >= 0`),
    check('tenants_max_active_jobs_check', sql`max_active_jobs >= 0`),
  ],
);

export type TenantRow = typeof tenants.$inferSelect;
