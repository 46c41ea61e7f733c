import { pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { tstz } from './columns';

export const tenants = pgTable('tenants', {
  id: uuid('id').primaryKey(),
  name: text('name').notNull(),
  createdAt: tstz('created_at').notNull().defaultNow(),
});

export type TenantRow = typeof tenants.$inferSelect;
