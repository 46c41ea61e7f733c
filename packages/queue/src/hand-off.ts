import type { Logger } from '@conveyor/shared';
import { enqueueRefOf } from './job-options';
import type { Producer } from './producer';

/** What the hand-off needs of a freshly committed job row. */
export interface NewJobRef {
  id: string;
  tenantId: string;
  type: string;
  queue: string;
  status: 'queued' | 'running' | 'retrying' | 'succeeded' | 'failed' | 'canceled';
  priority: number;
  runAt: Date;
  generation: number;
  maxAttempts: number;
  attempts: number;
}

/**
 * After new jobs committed in Postgres (an API submit, a schedule firing): enqueue them (one addBulk per
 * queue), drop any cached view and tell every API instance. The enqueue is best effort: the rows are the
 * record, and if Redis did not take them the reconciler enqueues them once it is back.
 */
export async function handOffNewJobs(
  producer: Producer,
  rows: readonly NewJobRef[],
  log: Logger,
): Promise<void> {
  if (rows.length === 0) return;
  const refs = rows.map(enqueueRefOf);
  try {
    await (refs.length === 1 ? producer.enqueue(refs[0]!) : producer.enqueueMany(refs));
  } catch (error) {
    log.warn(
      { err: error, ...(rows.length === 1 ? { jobId: rows[0]!.id } : { jobs: rows.length }) },
      'enqueue failed; the jobs are committed and the reconciler will enqueue them',
    );
  }
  // New ids have nothing cached; invalidating anyway keeps every writer on the same rule (see job-cache).
  await producer.jobCache.invalidate(...rows.map((r) => r.id));
  producer.publishChanges(
    rows.map((row) => ({ tenantId: row.tenantId, jobId: row.id, type: row.type, status: row.status })),
  );
}
