import type { JobErrorBody } from '@conveyor/shared';
import { and, asc, eq, gt, lt } from 'drizzle-orm';
import type { Db } from '../client';
import { jobs } from '../schema/index';
import { isActive } from './status';

export interface ActiveJobRef {
  id: string;
  tenantId: string;
  type: string;
  queue: string;
  status: string;
  priority: number;
  runAt: Date;
  generation: number;
  attempts: number;
  maxAttempts: number;
  cancelRequestedAt: Date | null;
}

/**
 * Non-terminal jobs untouched for a while, in id order from `afterId`: the reconciler's candidates.
 * Served by the partial index jobs_active_idx, so its cost follows the active rows, not the table.
 */
export function scanQuietActiveJobs(
  db: Db,
  params: { untouchedSince: Date; afterId?: string | undefined; limit: number },
): Promise<ActiveJobRef[]> {
  const where = [isActive(), lt(jobs.updatedAt, params.untouchedSince)];
  if (params.afterId) where.push(gt(jobs.id, params.afterId));
  return db
    .select({
      id: jobs.id,
      tenantId: jobs.tenantId,
      type: jobs.type,
      queue: jobs.queue,
      status: jobs.status,
      priority: jobs.priority,
      runAt: jobs.runAt,
      generation: jobs.generation,
      attempts: jobs.attempts,
      maxAttempts: jobs.maxAttempts,
      cancelRequestedAt: jobs.cancelRequestedAt,
    })
    .from(jobs)
    .where(and(...where))
    .orderBy(asc(jobs.id))
    .limit(params.limit);
}

/**
 * Records an outcome that BullMQ holds but Postgres missed (the worker finished while Postgres was
 * unreachable). Guarded by generation and by the row still being non-terminal.
 */
export async function settleFromQueue(
  db: Db,
  params: { id: string; generation: number } & (
    | { status: 'succeeded'; result: unknown }
    | { status: 'failed'; error: JobErrorBody }
    | { status: 'canceled' }
  ),
): Promise<boolean> {
  const now = new Date();
  const outcome =
    params.status === 'succeeded'
      ? { status: 'succeeded' as const, result: params.result ?? null, error: null, progress: 100 }
      : params.status === 'failed'
        ? { status: 'failed' as const, error: params.error }
        : { status: 'canceled' as const };
  const rows = await db
    .update(jobs)
    .set({ ...outcome, finishedAt: now, updatedAt: now })
    .where(and(eq(jobs.id, params.id), eq(jobs.generation, params.generation), isActive()))
    .returning({ id: jobs.id });
  return rows.length > 0;
}
