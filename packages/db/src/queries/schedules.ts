import { and, desc, eq, gt, lt, sql } from 'drizzle-orm';
import type { Db } from '../client';
import {
  type JobRow,
  jobs,
  type NewJobRow,
  type NewScheduleRow,
  type ScheduleRow,
  schedules,
} from '../schema/index';
import { isActive } from './status';

/** The fields a create or a replace sets; the rest (id, tenant, revision, firing record) the queries own. */
export type ScheduleFields = Pick<
  NewScheduleRow,
  'name' | 'cron' | 'timezone' | 'template' | 'overlap' | 'paused'
>;

/**
 * Inserts a schedule unless the tenant already has `maxPerTenant`. A per-tenant transaction lock makes the
 * count and the insert one step, so racing creates cannot overshoot the cap.
 */
export async function createSchedule(
  db: Db,
  values: ScheduleFields & { id: string; tenantId: string },
  maxPerTenant: number,
): Promise<{ row: ScheduleRow } | { capReached: number }> {
  return db.transaction(async (tx) => {
    await tx.execute(
      sql`SELECT pg_advisory_xact_lock(hashtextextended(${`schedules:${values.tenantId}`}, 0))`,
    );
    const [count] = await tx
      .select({ n: sql<number>`count(*)::int` })
      .from(schedules)
      .where(eq(schedules.tenantId, values.tenantId));
    if ((count?.n ?? 0) >= maxPerTenant) return { capReached: maxPerTenant };
    const now = new Date();
    const [row] = await tx
      .insert(schedules)
      .values({ ...values, createdAt: now, updatedAt: now })
      .returning();
    return { row: row! };
  });
}

export async function findSchedule(db: Db, tenantId: string, id: string): Promise<ScheduleRow | undefined> {
  const [row] = await db
    .select()
    .from(schedules)
    .where(and(eq(schedules.tenantId, tenantId), eq(schedules.id, id)));
  return row;
}

/** Newest first, keyset-paginated by id (UUIDv7, so by creation time). */
export async function listSchedules(
  db: Db,
  params: { tenantId: string; beforeId?: string | undefined; limit: number },
): Promise<{ rows: ScheduleRow[]; hasMore: boolean }> {
  const where = [eq(schedules.tenantId, params.tenantId)];
  if (params.beforeId) where.push(lt(schedules.id, params.beforeId));
  const rows = await db
    .select()
    .from(schedules)
    .where(and(...where))
    .orderBy(desc(schedules.id))
    .limit(params.limit + 1);
  return { rows: rows.slice(0, params.limit), hasMore: rows.length > params.limit };
}

/** Replaces the definition and bumps the revision (so the Redis mirror is seen as outdated); undefined if absent. */
export async function replaceSchedule(
  db: Db,
  tenantId: string,
  id: string,
  fields: ScheduleFields,
): Promise<ScheduleRow | undefined> {
  const [row] = await db
    .update(schedules)
    .set({ ...fields, revision: sql`${schedules.revision} + 1`, updatedAt: new Date() })
    .where(and(eq(schedules.tenantId, tenantId), eq(schedules.id, id)))
    .returning();
  return row;
}

/** Deletes the schedule; its jobs stay (their schedule_id becomes NULL). False when there was none. */
export async function deleteSchedule(db: Db, tenantId: string, id: string): Promise<boolean> {
  const rows = await db
    .delete(schedules)
    .where(and(eq(schedules.tenantId, tenantId), eq(schedules.id, id)))
    .returning({ id: schedules.id });
  return rows.length > 0;
}

export type ScheduleScanRow = Pick<ScheduleRow, 'id' | 'cron' | 'timezone' | 'revision' | 'paused'>;

/** Every tenant's schedules in id order, a page at a time: what the reconciler compares with Redis. */
export async function scanSchedules(
  db: Db,
  params: { afterId?: string | undefined; limit: number },
): Promise<ScheduleScanRow[]> {
  return db
    .select({
      id: schedules.id,
      cron: schedules.cron,
      timezone: schedules.timezone,
      revision: schedules.revision,
      paused: schedules.paused,
    })
    .from(schedules)
    .where(params.afterId ? gt(schedules.id, params.afterId) : undefined)
    .orderBy(schedules.id)
    .limit(params.limit);
}

export type FiringOutcome =
  | { outcome: 'created'; row: JobRow }
  /** Nothing to do: the schedule is gone, paused, or changed since this firing was scheduled. */
  | { outcome: 'gone' | 'paused' | 'outdated' }
  /** `overlap: skip` and a job of this schedule is still unfinished. */
  | { outcome: 'overlap'; activeJobId: string }
  /** This firing already made its job (BullMQ delivered it twice). */
  | { outcome: 'duplicate' };

/**
 * Turns one firing into a job, or says why not. The schedule row is locked for the transaction, so two
 * firings of one schedule are decided one after the other (the overlap check cannot race), and the unique
 * index on (schedule_id, scheduled_for) makes a repeated delivery of the same firing a no-op. `build` makes
 * the job row from the locked schedule (it may throw: the firing then changes nothing).
 */
export async function fireSchedule(
  db: Db,
  firing: { scheduleId: string; revision: number; scheduledFor: Date },
  build: (schedule: ScheduleRow) => NewJobRow,
): Promise<FiringOutcome> {
  return db.transaction(async (tx) => {
    const [schedule] = await tx
      .select()
      .from(schedules)
      .where(eq(schedules.id, firing.scheduleId))
      .for('update');
    if (!schedule) return { outcome: 'gone' } as const;
    if (schedule.paused) return { outcome: 'paused' } as const;
    if (schedule.revision !== firing.revision) return { outcome: 'outdated' } as const;
    if (schedule.overlap === 'skip') {
      const [active] = await tx
        .select({ id: jobs.id })
        .from(jobs)
        .where(and(eq(jobs.scheduleId, schedule.id), isActive()))
        .limit(1);
      if (active) return { outcome: 'overlap', activeJobId: active.id } as const;
    }
    const [row] = await tx
      .insert(jobs)
      .values(build(schedule))
      .onConflictDoNothing({
        target: [jobs.scheduleId, jobs.scheduledFor],
        where: sql`schedule_id IS NOT NULL`,
      })
      .returning();
    if (!row) return { outcome: 'duplicate' } as const;
    await tx
      .update(schedules)
      .set({ lastFiredAt: firing.scheduledFor, lastJobId: row.id })
      .where(eq(schedules.id, schedule.id));
    return { outcome: 'created', row } as const;
  });
}
