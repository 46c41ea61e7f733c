import { and, asc, eq, gt, inArray } from 'drizzle-orm';
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

/** The timelines of many jobs at once (oldest first, by event id): audits such as the fault suite's checks. */
export function listJobEventsOfJobs(db: Db, tenantId: string, jobIds: string[]): Promise<JobEventRow[]> {
  if (jobIds.length === 0) return Promise.resolve([]);
  return db
    .select()
    .from(jobEvents)
    .where(and(eq(jobEvents.tenantId, tenantId), inArray(jobEvents.jobId, jobIds)))
    .orderBy(asc(jobEvents.id));
}
