import type { JobErrorBody, JobStatus } from '@conveyor/shared';
import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  smallint,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { tstz } from './columns';
import { schedules } from './schedules';
import { tenants } from './tenants';

export const jobs = pgTable(
  'jobs',
  {
    /** UUIDv7 made by the API; also the BullMQ job id. */
    id: uuid('id').primaryKey(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    type: text('type').notNull(),
    queue: text('queue').notNull(),
    status: text('status').$type<JobStatus>().notNull(),
    priority: integer('priority').notNull().default(0),
    payload: jsonb('payload').notNull(),
    result: jsonb('result'),
    error: jsonb('error').$type<JobErrorBody>(),
    progress: smallint('progress').notNull().default(0),
    /** Starts in the current life of the job (reset by a retry); what the handler sees as `attempt`. */
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull(),
    /**
     * Fencing token: bumped at every start and never reset. Outcome writes carry the token they
     * started with, so a stalled worker's late write matches no row.
     */
    fence: integer('fence').notNull().default(0),
    /** Bumped by a manual retry; the BullMQ job carries it so a finished job of an older life is recognised. */
    generation: integer('generation').notNull().default(0),
    timeoutMs: integer('timeout_ms').notNull(),
    /** When the job may run: submit time, a requested delay, or the next retry. */
    runAt: tstz('run_at').notNull(),
    idempotencyKey: text('idempotency_key'),
    /** SHA-256 of the canonical request body, to tell a replay from a reused key. */
    requestHash: text('request_hash'),
    requestId: text('request_id'),
    cancelRequestedAt: tstz('cancel_requested_at'),
    createdAt: tstz('created_at').notNull(),
    startedAt: tstz('started_at'),
    finishedAt: tstz('finished_at'),
    updatedAt: tstz('updated_at').notNull(),
    /**
     * Bumped by a BEFORE UPDATE trigger on every change of the row (migration 0004), so it orders the
     * row's committed states without trusting any clock; the read cache refuses to replace a newer one.
     */
    version: bigint('version', { mode: 'number' }).notNull().default(0),
    /** The job's own webhook endpoint (`webhook.url` at submit); NULL = the tenant's default, if any. */
    webhookUrl: text('webhook_url'),
    /** The schedule that submitted this job, and the firing time it was submitted for. */
    scheduleId: uuid('schedule_id').references(() => schedules.id, { onDelete: 'set null' }),
    scheduledFor: tstz('scheduled_for'),
  },
  (t) => [
    // List filters: every index leads with the tenant and ends with id, so keyset pagination
    // (ORDER BY id DESC, id < cursor) is an index range scan for each filter.
    index('jobs_tenant_id_idx').on(t.tenantId, t.id),
    index('jobs_tenant_status_idx').on(t.tenantId, t.status, t.id),
    index('jobs_tenant_type_idx').on(t.tenantId, t.type, t.id),
    index('jobs_tenant_queue_idx').on(t.tenantId, t.queue, t.id),
    uniqueIndex('jobs_tenant_idempotency_key_idx')
      .on(t.tenantId, t.idempotencyKey)
      .where(sql`idempotency_key IS NOT NULL`),
    // The reconciler's scan: only non-terminal rows, which stay a small fraction of the table.
    // One job per schedule firing, however many times BullMQ delivers it; also the overlap check's index.
    uniqueIndex('jobs_schedule_firing_idx')
      .on(t.scheduleId, t.scheduledFor)
      .where(sql`schedule_id IS NOT NULL`),
    index('jobs_active_idx').on(t.id).where(sql`status IN ('queued', 'running', 'retrying')`),
    check(
      'jobs_status_check',
      sql`status IN ('queued', 'running', 'retrying', 'succeeded', 'failed', 'canceled')`,
    ),
    check('jobs_progress_check', sql`progress BETWEEN 0 AND 100`),
  ],
);

export type JobRow = typeof jobs.$inferSelect;
export type NewJobRow = typeof jobs.$inferInsert;
