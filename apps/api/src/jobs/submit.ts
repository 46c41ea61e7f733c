import { type Db, insertJob, insertJobs, type JobRow, type NewJobRow } from '@conveyor/db';
import { type EnqueueRef, enqueueRefOf, type Producer } from '@conveyor/queue';
import {
  AppError,
  type CreateJobRequest,
  catalog,
  fieldErrors,
  invalidParameter,
  isJobType,
  type Logger,
  uuidv7,
  validationFailed,
} from '@conveyor/shared';
import { requestHash } from '../http/request-hash';

/** 1–255 printable ASCII characters, as API.md fixes. */
const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,255}$/;

export function parseIdempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(header)) {
    throw invalidParameter('Idempotency-Key must be 1–255 printable ASCII characters.', [
      { path: 'Idempotency-Key', message: 'malformed header' },
    ]);
  }
  return header;
}

/** Validates the payload against its kind and builds the row, or throws 422 with every field problem. */
export function buildJobRow(
  req: CreateJobRequest,
  ctx: { tenantId: string; requestId: string; idempotencyKey?: string | undefined; rawBody: unknown },
): NewJobRow {
  if (!isJobType(req.type)) {
    throw validationFailed(
      [{ path: 'type', message: `unknown job type "${req.type}"` }],
      'Unknown job type.',
    );
  }
  const kind = catalog[req.type];
  const payload = kind.payload.safeParse(req.payload);
  if (!payload.success)
    throw validationFailed(
      fieldErrors(payload.error.issues, 'payload'),
      'The payload is not valid for this job type.',
    );
  const now = new Date();
  const options = req.options ?? {};
  const runAt = options.runAt ? new Date(options.runAt) : new Date(now.getTime() + (options.delay ?? 0));
  return {
    id: uuidv7(now.getTime()),
    tenantId: ctx.tenantId,
    type: req.type,
    queue: kind.queue,
    status: 'queued',
    priority: options.priority ?? 0,
    payload: payload.data,
    maxAttempts: options.maxAttempts ?? kind.maxAttempts,
    timeoutMs: options.timeout ?? kind.timeoutMs,
    runAt,
    idempotencyKey: ctx.idempotencyKey ?? null,
    requestHash: ctx.idempotencyKey ? requestHash(ctx.rawBody) : null,
    requestId: ctx.requestId,
    createdAt: now,
    updatedAt: now,
  };
}

export const enqueueRef = (row: JobRow): EnqueueRef => enqueueRefOf(row);

/**
 * Commits a batch in one statement (all or nothing), then enqueues it with one addBulk per queue. As for a
 * single submit, the 202 follows the commit; the reconciler enqueues whatever Redis did not take.
 */
export async function submitBatch(
  deps: { db: Db; producer: Producer; log: Logger },
  values: NewJobRow[],
): Promise<JobRow[]> {
  const rows = await insertJobs(deps.db, values);
  try {
    await deps.producer.enqueueMany(rows.map(enqueueRef));
  } catch (error) {
    deps.log.warn(
      { err: error, jobs: rows.length },
      'batch enqueue failed; the jobs are committed and the reconciler will enqueue them',
    );
  }
  // New ids have nothing cached; invalidating anyway keeps every writer on the same rule (see job-cache).
  await deps.producer.jobCache.invalidate(...rows.map((r) => r.id));
  for (const row of rows) announceChange(deps.producer, row);
  return rows;
}

/** Wakes long-polls and event streams on every API instance (fire-and-forget). */
export const announceChange = (producer: Producer, row: JobRow) =>
  producer.publishChange({ tenantId: row.tenantId, jobId: row.id, type: row.type, status: row.status });

/**
 * Commits the job, then enqueues it. A 202 follows the commit, not the enqueue: if Redis is down the job
 * stays `queued` in Postgres and the worker's reconciler enqueues it once Redis is back.
 */
export async function submitJob(
  deps: { db: Db; producer: Producer; log: Logger },
  values: NewJobRow,
): Promise<{ row: JobRow; replayed: boolean }> {
  const { row, created } = await insertJob(deps.db, values);
  if (!created) {
    if (row.requestHash !== values.requestHash) {
      throw new AppError(
        'idempotency_key_reused',
        422,
        'This Idempotency-Key was used with a different request body in the last 24 hours.',
      );
    }
    return { row, replayed: true };
  }
  try {
    await deps.producer.enqueue(enqueueRef(row));
  } catch (error) {
    deps.log.warn(
      { err: error, jobId: row.id },
      'enqueue failed; the job is committed and the reconciler will enqueue it',
    );
  }
  await deps.producer.jobCache.invalidate(row.id);
  announceChange(deps.producer, row);
  return { row, replayed: false };
}
