import { bigint, index, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { tstz } from './columns';
import { jobs } from './jobs';
import { tenants } from './tenants';

/** An input file a tenant uploaded (an image to resize); its bytes live in the blob store under storageKey. */
export const uploads = pgTable(
  'uploads',
  {
    id: uuid('id').primaryKey(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    contentType: text('content_type').notNull(),
    bytes: bigint('bytes', { mode: 'number' }).notNull(),
    sha256: text('sha256').notNull(),
    storageKey: text('storage_key').notNull(),
    createdAt: tstz('created_at').notNull().defaultNow(),
    expiresAt: tstz('expires_at').notNull(),
  },
  (t) => [
    index('uploads_tenant_id_idx').on(t.tenantId, t.id),
    index('uploads_expires_at_idx').on(t.expiresAt),
  ],
);

/** An output of a job (a resized image, a report). One per (job, name): a retried attempt replaces it. */
export const artifacts = pgTable(
  'artifacts',
  {
    id: uuid('id').primaryKey(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    jobId: uuid('job_id')
      .notNull()
      .references(() => jobs.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    contentType: text('content_type').notNull(),
    bytes: bigint('bytes', { mode: 'number' }).notNull(),
    sha256: text('sha256').notNull(),
    storageKey: text('storage_key').notNull(),
    /** Kind-specific facts (an image's width and height). */
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: tstz('created_at').notNull().defaultNow(),
    expiresAt: tstz('expires_at').notNull(),
  },
  (t) => [
    uniqueIndex('artifacts_job_name_idx').on(t.jobId, t.name),
    index('artifacts_tenant_id_idx').on(t.tenantId, t.id),
    index('artifacts_expires_at_idx').on(t.expiresAt),
  ],
);

export type UploadRow = typeof uploads.$inferSelect;
export type ArtifactRow = typeof artifacts.$inferSelect;
