import type { JobsOptions } from 'bullmq';

/** What the queue needs to know of a job row to enqueue it. */
export interface EnqueueRef {
  id: string;
  type: string;
  queue: string;
  priority: number;
  runAt: Date;
  generation: number;
  /** Attempts left in this life: BullMQ's `attempts`. Postgres keeps the authoritative count. */
  attemptsLeft: number;
}

/** The enqueue reference of a job row (any shape carrying these columns). */
export const enqueueRefOf = (
  row: Pick<EnqueueRef, 'id' | 'type' | 'queue' | 'priority' | 'runAt' | 'generation'> & {
    maxAttempts: number;
    attempts: number;
  },
): EnqueueRef => ({
  id: row.id,
  type: row.type,
  queue: row.queue,
  priority: row.priority,
  runAt: row.runAt,
  generation: row.generation,
  // Postgres holds the budget; BullMQ gets what is left of it in this life.
  attemptsLeft: Math.max(1, row.maxAttempts - row.attempts),
});

/** BullMQ job data: only the generation. The payload lives in Postgres, read when the attempt starts. */
export interface QueueJobData {
  gen: number;
}

/** The backoff type whose delays the worker's backoffStrategy computes (capped, jittered, per kind). */
export const BACKOFF_TYPE = 'conveyor';

/**
 * Job defaults, written once. Finished jobs stay in Redis for a day (up to 100k per queue) so the
 * reconciler can settle outcomes that Postgres missed while it was unreachable.
 */
export function jobOptions(ref: EnqueueRef, now = Date.now()): JobsOptions {
  return {
    jobId: ref.id,
    delay: Math.max(0, ref.runAt.getTime() - now),
    ...(ref.priority > 0 ? { priority: ref.priority } : {}),
    attempts: Math.max(1, ref.attemptsLeft),
    backoff: { type: BACKOFF_TYPE },
    removeOnComplete: { age: 24 * 3600, count: 100_000 },
    removeOnFail: { age: 7 * 24 * 3600, count: 100_000 },
  };
}
