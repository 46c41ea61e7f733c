import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { jobs } from '../schema/index';
import { isActive } from './status';

/**
 * How many of the tenant's jobs are unfinished (queued, running or retrying): the active-job cap's count.
 * Always an index scan (explain.int.test.ts): jobs_tenant_status_idx (tenant_id, status, id) as three
 * equality probes, or, while the whole deployment has few unfinished jobs, the partial jobs_active_idx
 * filtered by tenant. The cap keeps a tenant's count small, so the count is cheap and needs no index of its own.
 */
export async function countActiveJobs(db: Db, tenantId: string): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(jobs)
    .where(and(eq(jobs.tenantId, tenantId), isActive()));
  return row?.n ?? 0;
}
