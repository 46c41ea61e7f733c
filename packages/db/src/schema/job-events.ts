import { bigint, index, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { tstz } from './columns';
import { jobs } from './jobs';

/**
 * A job's timeline. Rows are written by the `jobs_record_event` trigger (migration 0001) on every
 * status change, restart and cancel request, so no code path can change a job without a trace.
 */
export const jobEvents = pgTable(
  'job_events',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    jobId: uuid('job_id')
      .notNull()
      .references(() => jobs.id, { onDelete: 'cascade' }),
    tenantId: uuid('tenant_id').notNull(),
    at: tstz('at').notNull().defaultNow(),
    type: text('type').notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index('job_events_job_id_idx').on(t.jobId, t.id)],
);

export type JobEventRow = typeof jobEvents.$inferSelect;
