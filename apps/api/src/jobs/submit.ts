import {
  buildJobRow as buildNewJobRow,
  type Db,
  type InsertedJob,
  insertJobs,
  insertSubmittedJobs,
  type JobRow,
  type NewJobRow,
} from '@conveyor/db';
import { type EnqueueRef, enqueueRefOf, handOffNewJobs, type Producer } from '@conveyor/queue';
import {
  AppError,
  type CreateJobRequest,
  createCoalescer,
  invalidParameter,
  type Logger,
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
  const { rawBody, ...rest } = ctx;
  return buildNewJobRow(req, { ...rest, requestHash: ctx.idempotencyKey ? requestHash(rawBody) : null });
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
  await handOffNewJobs(deps.producer, rows, deps.log);
  return rows;
}

/** Wakes long-polls and event streams on every API instance (fire-and-forget). */
export const announceChange = (producer: Producer, row: JobRow) =>
  producer.publishChange({ tenantId: row.tenantId, jobId: row.id, type: row.type, status: row.status });

/**
 * Submits of one API instance, coalesced: the single submits that arrive in one turn of the event loop
 * commit in ONE multi-row INSERT (ON CONFLICT on the Idempotency-Key index settles keys row by row; see
 * insertSubmittedJobs) and are handed to Redis in one addBulk per queue. Each row still commits before
 * its 202 (a multi-row INSERT is one statement, committed as a whole), so nothing about "a 202 means
 * committed" changes; what changes is the number of round trips under load.
 */
export function createSubmitter(deps: { db: Db; producer: Producer; log: Logger }) {
  const inserts = createCoalescer((values: NewJobRow[]) => insertSubmittedJobs(deps.db, values));
  const handOffs = createCoalescer(async (rows: JobRow[]) => {
    await handOffNewJobs(deps.producer, rows, deps.log);
    return rows;
  });
  return {
    insert: (values: NewJobRow): Promise<InsertedJob> => inserts.add(values),
    handOff: (row: JobRow) => handOffs.add(row),
  };
}

export type Submitter = ReturnType<typeof createSubmitter>;

/**
 * Commits the job, then enqueues it. A 202 follows the commit, not the enqueue: if Redis is down the job
 * stays `queued` in Postgres and the worker's reconciler enqueues it once Redis is back.
 */
export async function submitJob(
  submitter: Submitter,
  values: NewJobRow,
): Promise<{ row: JobRow; replayed: boolean }> {
  const { row, created } = await submitter.insert(values);
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
  await submitter.handOff(row);
  return { row, replayed: false };
}
