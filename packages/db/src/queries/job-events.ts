import { and, asc, eq, gt } from 'drizzle-orm';
import type { Db } from '../client';
import { type JobEventRow, jobEvents } from '../schema/index';

/** A job's timeline, oldest first, optionally only after event `afterId`; tenant-scoped like every read. */
export function listJobEvents(db: Db, tenantId: string, jobId: string, afterId = 0): Promise<JobEventRow[]> {
  return db
    .select()
    .from(jobEvents)
    .where(and(eq(jobEvents.tenantId, tenantId), eq(jobEvents.jobId, jobId), gt(jobEvents.id, afterId)))
    .orderBy(asc(jobEvents.id));
}
