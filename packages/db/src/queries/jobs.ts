import { type JobStatus, uuidv7Floor } from '@conveyor/shared';
import { and, desc, eq, gte, inArray, isNull, lt, sql } from 'drizzle-orm';
import { type Db, driverOf } from '../client';
import { type JobRow, jobs, type NewJobRow } from '../schema/index';
import { rawRowMapper } from './raw-rows';

const jobRows = rawRowMapper(jobs);

/** How long an Idempotency-Key is remembered. */
export const IDEMPOTENCY_WINDOW_HOURS = 24;

export interface InsertedJob {
  row: JobRow;
  /** False when the idempotency key matched an earlier job: `row` is that job. */
  created: boolean;
}

/**
 * Inserts a job, or finds the job an idempotency key already names. Racing inserts with one key are
 * settled by the unique index: the loser's ON CONFLICT DO NOTHING waits for the winner's commit and then
 * reads the winner's row. The trigger writes the `queued` event in the same statement.
 */
export async function insertJob(db: Db, values: NewJobRow): Promise<InsertedJob> {
  const key = values.idempotencyKey;
  if (!key) {
    const [row] = await db.insert(jobs).values(values).returning();
    return { row: row!, created: true };
  }
  // A key older than the window is forgotten: release it so this request starts a new job.
  await db
    .update(jobs)
    .set({ idempotencyKey: null })
    .where(
      and(
        eq(jobs.tenantId, values.tenantId),
        eq(jobs.idempotencyKey, key),
        lt(jobs.createdAt, sql`now() - make_interval(hours => ${IDEMPOTENCY_WINDOW_HOURS})`),
      ),
    );
  for (let attempt = 0; attempt < 3; attempt++) {
    const [row] = await db
      .insert(jobs)
      .values(values)
      .onConflictDoNothing({
        target: [jobs.tenantId, jobs.idempotencyKey],
        where: sql`idempotency_key IS NOT NULL`,
      })
      .returning();
    if (row) return { row, created: true };
    const [existing] = await db
      .select()
      .from(jobs)
      .where(and(eq(jobs.tenantId, values.tenantId), eq(jobs.idempotencyKey, key)));
    if (existing) return { row: existing, created: false };
    // The holder of the key was released between our insert and our read: insert again.
  }
  throw new Error('idempotency key kept changing hands');
}

/**
 * Many single submits in one statement (the API coalesces the submits of one event-loop turn): each row is
 * inserted unless its Idempotency-Key is already held. A held key is then settled row by row: a holder
 * inside the window answers (replay, or reuse of the key with another body — the caller compares hashes);
 * a holder past it takes `insertJob`'s path, which releases the key and inserts. The common case — a new
 * key or none — costs one statement for the whole turn instead of two or three per submit.
 */
export async function insertSubmittedJobs(db: Db, values: NewJobRow[]): Promise<InsertedJob[]> {
  if (values.length === 0) return [];
  const sql = driverOf(db);
  const raw = await sql<Record<string, unknown>[]>`
    INSERT INTO jobs ${sql(values.map(jobRows.toRecord), jobRows.names)}
    ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING *`;
  const inserted = new Map(raw.map((r) => [r.id as string, jobRows.fromRow(r)]));
  return Promise.all(
    values.map(async (v) => {
      const row = inserted.get(v.id);
      return row ? { row, created: true } : settleHeldKey(db, v);
    }),
  );
}

async function settleHeldKey(db: Db, values: NewJobRow): Promise<InsertedJob> {
  const [holder] = await db
    .select({
      row: jobs,
      expired: sql<boolean>`${jobs.createdAt} < now() - make_interval(hours => ${IDEMPOTENCY_WINDOW_HOURS})`,
    })
    .from(jobs)
    .where(and(eq(jobs.tenantId, values.tenantId), eq(jobs.idempotencyKey, values.idempotencyKey!)));
  return holder && !holder.expired ? { row: holder.row, created: false } : insertJob(db, values);
}

/**
 * Inserts many jobs in one statement, so the batch commits or fails as a whole. Rows come back in the
 * order of `values` (RETURNING order is not guaranteed, so they are matched by id).
 */
export async function insertJobs(db: Db, values: NewJobRow[]): Promise<JobRow[]> {
  if (values.length === 0) return [];
  const sql = driverOf(db);
  const raw = await sql<Record<string, unknown>[]>`
    INSERT INTO jobs ${sql(values.map(jobRows.toRecord), jobRows.names)} RETURNING *`;
  const rows = raw.map(jobRows.fromRow);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return values.map((v) => byId.get(v.id)!);
}

export async function findJob(db: Db, tenantId: string, id: string): Promise<JobRow | undefined> {
  const [row] = await db
    .select()
    .from(jobs)
    .where(and(eq(jobs.tenantId, tenantId), eq(jobs.id, id)));
  return row;
}

/** Many jobs by id in one read (any order; unknown ids are absent); tenant-scoped like every read. */
export async function findJobsByIds(db: Db, tenantId: string, ids: string[]): Promise<JobRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(jobs)
    .where(and(eq(jobs.tenantId, tenantId), inArray(jobs.id, ids)));
}

export interface ListJobsParams {
  tenantId: string;
  statuses?: JobStatus[] | undefined;
  type?: string | undefined;
  queue?: string | undefined;
  createdAfter?: Date | undefined;
  createdBefore?: Date | undefined;
  ids?: string[] | undefined;
  /** Keyset cursor: only ids below this one (the list is newest first). */
  beforeId?: string | undefined;
  limit: number;
}

/**
 * Newest first, keyset-paginated by id. UUIDv7 ids carry their creation time, so the created-at filters
 * become id bounds and ride the same (tenant, …, id) indexes as the rest.
 */
export async function listJobs(
  db: Db,
  params: ListJobsParams,
): Promise<{ rows: JobRow[]; hasMore: boolean }> {
  const where = [eq(jobs.tenantId, params.tenantId)];
  if (params.statuses?.length) where.push(inArray(jobs.status, params.statuses));
  if (params.type) where.push(eq(jobs.type, params.type));
  if (params.queue) where.push(eq(jobs.queue, params.queue));
  if (params.createdAfter) where.push(gte(jobs.id, uuidv7Floor(params.createdAfter)));
  if (params.createdBefore) where.push(lt(jobs.id, uuidv7Floor(params.createdBefore)));
  if (params.ids?.length) where.push(inArray(jobs.id, params.ids));
  if (params.beforeId) where.push(lt(jobs.id, params.beforeId));
  const rows = await db
    .select()
    .from(jobs)
    .where(and(...where))
    .orderBy(desc(jobs.id))
    .limit(params.limit + 1);
  return { rows: rows.slice(0, params.limit), hasMore: rows.length > params.limit };
}

export type CancelOutcome =
  | { outcome: 'canceled' | 'requested'; row: JobRow }
  | { outcome: 'terminal'; row: JobRow }
  | { outcome: 'not_found' };

/**
 * Cancels a queued or retrying job at once; marks a running one as asked to stop (its worker is told
 * over pub/sub and records `canceled` when the handler stops). Asking twice is harmless.
 */
export async function requestCancel(db: Db, tenantId: string, id: string): Promise<CancelOutcome> {
  const now = new Date();
  const scope = and(eq(jobs.tenantId, tenantId), eq(jobs.id, id));
  const [canceled] = await db
    .update(jobs)
    .set({ status: 'canceled', finishedAt: now, updatedAt: now })
    .where(and(scope, inArray(jobs.status, ['queued', 'retrying'])))
    .returning();
  if (canceled) return { outcome: 'canceled', row: canceled };
  const [requested] = await db
    .update(jobs)
    .set({ cancelRequestedAt: now, updatedAt: now })
    .where(and(scope, eq(jobs.status, 'running'), isNull(jobs.cancelRequestedAt)))
    .returning();
  if (requested) return { outcome: 'requested', row: requested };
  const row = await findJob(db, tenantId, id);
  if (!row) return { outcome: 'not_found' };
  return row.status === 'running' ? { outcome: 'requested', row } : { outcome: 'terminal', row };
}

export type RetryOutcome =
  | { outcome: 'queued'; row: JobRow }
  | { outcome: 'invalid_state'; row: JobRow }
  | { outcome: 'not_found' };

/** A failed or canceled job starts a new life: a new generation, a fresh attempt budget, cleared outcome. */
export async function requeueJob(db: Db, tenantId: string, id: string): Promise<RetryOutcome> {
  const now = new Date();
  const [row] = await db
    .update(jobs)
    .set({
      status: 'queued',
      generation: sql`${jobs.generation} + 1`,
      attempts: 0,
      progress: 0,
      result: null,
      error: null,
      runAt: now,
      startedAt: null,
      finishedAt: null,
      cancelRequestedAt: null,
      updatedAt: now,
    })
    .where(and(eq(jobs.tenantId, tenantId), eq(jobs.id, id), inArray(jobs.status, ['failed', 'canceled'])))
    .returning();
  if (row) return { outcome: 'queued', row };
  const existing = await findJob(db, tenantId, id);
  return existing ? { outcome: 'invalid_state', row: existing } : { outcome: 'not_found' };
}
