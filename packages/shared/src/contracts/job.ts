import { z } from 'zod';
import { jobWebhook } from './webhook';

export const JOB_STATUSES = ['queued', 'running', 'retrying', 'succeeded', 'failed', 'canceled'] as const;
export const jobStatus = z.enum(JOB_STATUSES);
export type JobStatus = z.infer<typeof jobStatus>;

export const TERMINAL_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'canceled'];
export const ACTIVE_STATUSES: readonly JobStatus[] = ['queued', 'running', 'retrying'];
export const isTerminal = (status: JobStatus): boolean => TERMINAL_STATUSES.includes(status);

/** Highest BullMQ priority value (2^21). */
export const MAX_PRIORITY = 2_097_152;
/** Longest delay a submit may ask for: one year, in ms. */
export const MAX_DELAY_MS = 365 * 24 * 3600 * 1000;
const EARLIEST_RUN_AT = Date.UTC(2000, 0, 1);

export const jobOptions = z
  .object({
    /** 0 = no priority (FIFO, taken first); 1..2^21 = prioritized, lower first (BullMQ semantics). */
    priority: z.number().int().min(0).max(MAX_PRIORITY).optional(),
    delay: z.number().int().min(0).max(MAX_DELAY_MS).optional(),
    // Bounded like delay: from 2000 (a past time just means "now") to one year ahead. Postgres cannot
    // store every RFC 3339 year, and years before 100 do not read back reliably.
    runAt: z.iso
      .datetime({ offset: true })
      .refine((v) => {
        const t = Date.parse(v);
        return t >= EARLIEST_RUN_AT && t <= Date.now() + MAX_DELAY_MS;
      }, 'must lie between 2000-01-01 and one year from now')
      .optional(),
    maxAttempts: z.number().int().min(1).max(100).optional(),
    timeout: z
      .number()
      .int()
      .min(100)
      .max(24 * 3600 * 1000)
      .optional(),
  })
  .strict()
  .refine((o) => o.delay === undefined || o.runAt === undefined, {
    message: 'give either delay or runAt, not both',
    path: ['runAt'],
  });
export type JobOptions = z.infer<typeof jobOptions>;

export const createJobRequest = z
  .object({
    type: z.string().min(1).max(100),
    payload: z.unknown().default({}),
    options: jobOptions.optional(),
    webhook: jobWebhook.optional(),
  })
  .strict();
export type CreateJobRequest = z.infer<typeof createJobRequest>;

export const jobErrorBody = z.object({ code: z.string(), message: z.string() });
export type JobErrorBody = z.infer<typeof jobErrorBody>;

export const jobView = z
  .object({
    id: z.uuid(),
    type: z.string(),
    queue: z.string(),
    status: jobStatus,
    payload: z.unknown(),
    result: z.unknown().nullable(),
    error: jobErrorBody.nullable(),
    progress: z.number().int().min(0).max(100),
    attempts: z.number().int(),
    maxAttempts: z.number().int(),
    priority: z.number().int(),
    runAt: z.string(),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    updatedAt: z.string(),
    /** The job's own webhook endpoint; null = the tenant's default endpoint, if any, is used. */
    webhook: z.object({ url: z.string() }).nullable(),
    /** The schedule that submitted the job; null for a job submitted over the API (or whose schedule is deleted). */
    scheduleId: z.uuid().nullable(),
  })
  .meta({ id: 'Job' });
export type JobView = z.infer<typeof jobView>;
export const JOB_FIELDS = Object.keys(jobView.shape) as (keyof JobView)[];

export const jobEventView = z
  .object({ at: z.string(), type: z.string(), data: z.record(z.string(), z.unknown()) })
  .meta({ id: 'JobEvent' });
export type JobEventView = z.infer<typeof jobEventView>;

/** Most jobs one batch submit may carry. */
export const MAX_BATCH = 1_000;

export const createJobsBatchRequest = z
  .object({ jobs: z.array(createJobRequest).min(1).max(MAX_BATCH) })
  .strict()
  .meta({ id: 'SubmitBatch' });
