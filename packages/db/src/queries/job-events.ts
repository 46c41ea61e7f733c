import { and, asc, eq } from 'drizzle-orm';
import type { Db } from '../client';
import { type JobEventRow, jobEvents } from '../schema/index';

/** A job's timeline, oldest first; tenant-scoped like every read. */
export function listJobEvents(db: Db, tenantId: string, jobId: string): Promise<JobEventRow[]> {
  return db
    .select()
    .from(jobEvents)
    .where(and(eq(jobEvents.tenantId, tenantId), eq(jobEvents.jobId, jobId)))
    .orderBy(asc(jobEvents.id));
}
