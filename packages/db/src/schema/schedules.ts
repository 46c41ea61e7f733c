import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { tstz } from './columns';
import { tenants } from './tenants';

/**
 * A cron schedule that submits a job from its template. Postgres holds the schedule; BullMQ's job
 * scheduler (id = schedule id) is only its mirror, re-created by the reconciler when Redis loses it.
 */
export const schedules = pgTable(
  'schedules',
  {
    /** UUIDv7; also the BullMQ job scheduler id. */
    id: uuid('id').primaryKey(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    name: text('name'),
    /** Cron expression; six fields when seconds are given. */
    cron: text('cron').notNull(),
    /** IANA time zone the cron expression is read in. */
    timezone: text('timezone').notNull().default('UTC'),
    /** The job to submit at each firing: `{type, payload, options?, webhook?}` as POST /v1/jobs takes it. */
    template: jsonb('template').$type<Record<string, unknown>>().notNull(),
    /** `skip`: no new job while the previous one from this schedule is unfinished; `allow`: always submit. */
    overlap: text('overlap').$type<'skip' | 'allow'>().notNull().default('skip'),
    paused: boolean('paused').notNull().default(false),
    /** Bumped by every change, so the mirror in Redis can tell an outdated scheduler from the current one. */
    revision: integer('revision').notNull().default(1),
    lastFiredAt: tstz('last_fired_at'),
    lastJobId: uuid('last_job_id'),
    createdAt: tstz('created_at').notNull().defaultNow(),
    updatedAt: tstz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('schedules_tenant_id_idx').on(t.tenantId, t.id),
    check('schedules_overlap_check', sql`overlap IN ('skip', 'allow')`),
  ],
);

export type ScheduleRow = typeof schedules.$inferSelect;
export type NewScheduleRow = typeof schedules.$inferInsert;
