import { index, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { tstz } from './columns';
import { tenants } from './tenants';

export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    name: text('name'),
    /** The 8 hex chars after `cvr_`, stored in clear to find the row; not unique (32 bits). */
    prefix: text('prefix').notNull(),
    /** SHA-256 of the whole key, hex. The key itself is never stored. */
    hash: text('hash').notNull(),
    scopes: text('scopes').array().notNull(),
    createdAt: tstz('created_at').notNull().defaultNow(),
    revokedAt: tstz('revoked_at'),
  },
  (t) => [index('api_keys_prefix_idx').on(t.prefix)],
);

export type ApiKeyRow = typeof apiKeys.$inferSelect;
